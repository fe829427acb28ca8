const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Listen addresses that stand for every interface: no name of the server follows from them. */
export const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * The names the fleet server answers to, and the one origin it takes writes from. A browser that
 * DNS rebinding points at the server sends the attacker's host name in `Host`; a page of another
 * site that posts a form or calls `fetch` sends its own `Origin`. Both are refused. Clients that are
 * not browsers (the CLI, scripts) send no `Origin` and no `Sec-Fetch-Site`, and may write with a
 * write credential.
 */
export class FleetSite {
  private constructor(
    /** `Host` header values accepted, lower case. */
    private readonly hosts: ReadonlySet<string>,
    /** `Origin` header values accepted for writes. */
    private readonly origins: ReadonlySet<string>,
    /** How the refusal describes where the server is. */
    readonly description: string,
  ) {}

  /** Reached at `AUTOPILOT_FLEET_PUBLIC_URL` (`https://fleet.example.com`) and nowhere else. */
  static atPublicUrl(publicUrl: string): FleetSite {
    const url = new URL(publicUrl);
    const defaultPort = url.protocol === 'https:' ? '443' : '80';
    const hosts = new Set([url.host.toLowerCase(), `${url.hostname.toLowerCase()}:${url.port || defaultPort}`]);
    return new FleetSite(hosts, new Set([url.origin.toLowerCase()]), url.origin);
  }

  /** Without a public URL: the listen address and the loopback names, with the port it listens on. */
  static onListenAddress(listenHost: string, port: number): FleetSite {
    const listen = listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost;
    const names = [...new Set([listen.toLowerCase(), ...LOOPBACK_NAMES])];
    const hosts = new Set(names.map((name) => `${name}:${port}`));
    return new FleetSite(hosts, new Set([...hosts].map((host) => `http://${host}`)), `http://${listen}:${port}`);
  }

  allowsHost(host: string | undefined): boolean {
    return host !== undefined && this.hosts.has(host.toLowerCase());
  }

  /**
   * Why a write (POST, PUT, DELETE, sign-in, sign-out) is refused, or undefined when it comes from
   * the server's own page or from a client that is not a browser.
   */
  writeRefusal(origin: string | undefined, fetchSite: string | string[] | undefined): string | undefined {
    if (origin !== undefined) {
      return this.origins.has(origin.toLowerCase())
        ? undefined
        : `a write must come from ${this.description} itself, not from another site's page`;
    }
    // Browsers send Sec-Fetch-Site on every request; without Origin only a non-browser is welcome.
    if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
      return `a write must come from ${this.description} itself, not from another site's page`;
    }
    return undefined;
  }
}
