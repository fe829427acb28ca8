import { z } from 'zod';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';

export interface InstallerSelector {
  osType?: 'unix' | 'windows' | 'aix' | 'solaris' | 'zos';
  installerType?: 'default' | 'paas' | 'paas-sh';
  /** Tooling sends it with unix/default although the docs call it paas-only (reference §4). */
  arch?: 'x86' | 'ppcle' | 's390' | 'arm' | 'all';
}

const connectionInfoSchema = z.object({
  tenantUUID: z.string(),
  tenantToken: z.string(),
  communicationEndpoints: z.array(z.string()),
  formattedCommunicationEndpoints: z.string().optional(),
});
export type ConnectionInfo = z.infer<typeof connectionInfoSchema>;

export type InstallerDownload =
  { status: 'downloaded'; sha256: string; size: number; etag: string | undefined } | { status: 'not-modified' };

/** Deployment API of one environment (reference §4); every call needs `InstallerDownload`. */
export class DeploymentApi {
  constructor(
    private readonly http: DynatraceHttp,
    private readonly environment: EnvironmentLocation,
    private readonly token: string,
  ) {}

  private base(suffix: string) {
    return `${this.environment.apiRoot}/v1/deployment/installer/agent${suffix}`;
  }

  private selector(s: InstallerSelector) {
    return { os: s.osType ?? 'unix', type: s.installerType ?? 'default', query: { arch: s.arch ?? 'x86' } };
  }

  async latestVersion(selector: InstallerSelector = {}): Promise<string> {
    const { os, type, query } = this.selector(selector);
    const path = this.base(`/${os}/${type}/latest/metainfo`);
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environment.id, query });
    return this.http.parse(z.object({ latestAgentVersion: z.string() }), response.body, { method: 'GET', path })
      .latestAgentVersion;
  }

  async versions(selector: InstallerSelector = {}): Promise<string[]> {
    const { os, type } = this.selector(selector);
    const path = this.base(`/versions/${os}/${type}`);
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environment.id });
    return this.http.parse(z.object({ availableVersions: z.array(z.string()) }), response.body, { method: 'GET', path })
      .availableVersions;
  }

  /**
   * Streams one installer version to `destination`. With `ifNoneMatch` set to the ETag of a copy we
   * already hold, an unchanged installer costs a 304 instead of a download.
   */
  async download(
    options: InstallerSelector & { version: string; destination: string; ifNoneMatch?: string },
  ): Promise<InstallerDownload> {
    const { os, type, query } = this.selector(options);
    const result = await this.http.download(
      {
        path: this.base(`/${os}/${type}/version/${encodeURIComponent(options.version)}`),
        token: this.token,
        pool: this.environment.id,
        query,
        headers: {
          Accept: 'application/octet-stream',
          ...(options.ifNoneMatch ? { 'If-None-Match': options.ifNoneMatch } : {}),
        },
      },
      options.destination,
    );
    return result.status === 304
      ? { status: 'not-modified' }
      : { status: 'downloaded', sha256: result.sha256, size: result.size, etag: result.etag };
  }

  /** Includes the agent tenant token, a secret: keep the result inside the activity. */
  async connectionInfo(): Promise<ConnectionInfo> {
    const path = this.base('/connectioninfo');
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environment.id });
    return this.http.parse(connectionInfoSchema, response.body, { method: 'GET', path });
  }
}
