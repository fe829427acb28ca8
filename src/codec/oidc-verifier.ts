import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** An OIDC issuer and the audience its access tokens must name (one application's, never any). */
export interface OidcIssuer {
  issuer: string;
  audience: string;
}

export type OidcVerification = { ok: true; claims: JWTPayload } | { ok: false; reason: string };

export interface OidcVerifierOptions extends OidcIssuer {
  /** The wait after a failed discovery, doubled after each further failure up to `max`. */
  discoveryBackoffMs?: { min: number; max: number };
  discoveryTimeoutMs?: number;
  clock?: () => number;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const DEFAULT_BACKOFF = { min: 2_000, max: 60_000 };

class DiscoveryFailed extends Error {
  constructor(readonly code: string) {
    super(`OIDC discovery failed (${code})`);
  }
}

/**
 * Checks access tokens of one issuer for one audience against the issuer's published keys
 * (signature, issuer, audience, expiry). The keys are found through the issuer's discovery document
 * on first use. A failed discovery is remembered with a growing back-off: while the issuer is down,
 * tokens are refused with that reason and the issuer is asked again only once the back-off is over,
 * never once per incoming request (which would let anyone with a made-up token make us hammer it).
 */
export class OidcVerifier {
  #keys: JWTVerifyGetKey | undefined;
  #discovering: Promise<JWTVerifyGetKey> | undefined;
  #failure: { until: number; delayMs: number; code: string } | undefined;
  readonly #backoff: { min: number; max: number };
  readonly #clock: () => number;

  constructor(private readonly options: OidcVerifierOptions) {
    this.#backoff = options.discoveryBackoffMs ?? DEFAULT_BACKOFF;
    this.#clock = options.clock ?? Date.now;
  }

  get issuer(): string {
    return this.options.issuer;
  }

  /** Whether a bearer token has the shape of a JWT (three dot-separated parts), so it is ours to check. */
  static looksLikeJwt(bearer: string): boolean {
    return bearer.split('.').length === 3;
  }

  async verify(token: string): Promise<OidcVerification> {
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.keys();
    } catch (err) {
      const code = err instanceof DiscoveryFailed ? err.code : 'ERR_OIDC_DISCOVERY';
      const retryIn = this.#failure ? Math.max(1, Math.ceil((this.#failure.until - this.#clock()) / 1000)) : 1;
      return {
        ok: false,
        reason: `access token not checked: the issuer's discovery failed (${code}); next attempt in ${retryIn} s`,
      };
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
      });
      return { ok: true, claims: payload };
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERR_JWT_INVALID';
      return { ok: false, reason: `access token rejected (${code})` };
    }
  }

  private keys(): Promise<JWTVerifyGetKey> {
    if (this.#keys) return Promise.resolve(this.#keys);
    if (this.#failure && this.#clock() < this.#failure.until) {
      return Promise.reject(new DiscoveryFailed(this.#failure.code));
    }
    // Requests arriving while a discovery is under way wait for that one.
    this.#discovering ??= this.discover()
      .then(
        (keys) => {
          this.#keys = keys;
          this.#failure = undefined;
          return keys;
        },
        (err: unknown) => {
          const delayMs = this.#failure
            ? Math.min(this.#backoff.max, this.#failure.delayMs * 2)
            : Math.min(this.#backoff.max, this.#backoff.min);
          const code = err instanceof DiscoveryFailed ? err.code : 'ERR_OIDC_DISCOVERY';
          this.#failure = { until: this.#clock() + delayMs, delayMs, code };
          throw err;
        },
      )
      .finally(() => (this.#discovering = undefined));
    return this.#discovering;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const issuer = this.options.issuer;
    let response: Response;
    try {
      response = await fetch(`${issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(this.options.discoveryTimeoutMs ?? 10_000),
        redirect: 'error',
      });
    } catch {
      throw new DiscoveryFailed('ERR_OIDC_DISCOVERY_UNREACHABLE');
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new DiscoveryFailed(`ERR_OIDC_DISCOVERY_HTTP_${response.status}`);
    }
    const discovery = (await response.json().catch(() => ({}))) as { jwks_uri?: unknown; issuer?: unknown };
    if (typeof discovery.jwks_uri !== 'string' || discovery.issuer !== issuer) {
      throw new DiscoveryFailed('ERR_OIDC_DISCOVERY_MISMATCH');
    }
    let jwksUri: URL;
    try {
      jwksUri = new URL(discovery.jwks_uri);
    } catch {
      throw new DiscoveryFailed('ERR_OIDC_DISCOVERY_MISMATCH');
    }
    return createRemoteJWKSet(jwksUri);
  }
}
