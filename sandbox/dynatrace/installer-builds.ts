import { createHash } from 'node:crypto';
import { buildSignedInstaller, generateSigningMaterial } from './installer.js';
import type { EnvironmentRecord, SimulatorState } from './state.js';

export interface BuiltInstaller {
  body: Buffer;
  sha256: string;
  etag: string;
}

/**
 * The installers the simulator serves, each built once per environment and version: signing costs
 * an openssl run. Not the workers' store of downloaded installers (src/installers/installer-store.ts).
 */
export class InstallerBuilds {
  private readonly built = new Map<string, Promise<BuiltInstaller>>();

  constructor(
    private readonly state: SimulatorState,
    private readonly communicationEndpoint: () => string,
    private readonly sizeBytes: () => number,
    /** The simulator's https certificate, which the installer trusts for its connection (none over http). */
    private readonly serverCertificatePem?: string,
  ) {}

  get(environment: EnvironmentRecord, version: string): Promise<BuiltInstaller> {
    const key = `${environment.id}|${version}|${this.sizeBytes()}|${this.communicationEndpoint()}`;
    let entry = this.built.get(key);
    if (!entry) {
      entry = this.build(environment, version);
      entry.catch(() => this.built.delete(key));
      this.built.set(key, entry);
    }
    return entry;
  }

  private async build(environment: EnvironmentRecord, version: string): Promise<BuiltInstaller> {
    this.state.signing ??= await generateSigningMaterial();
    const body = await buildSignedInstaller(
      {
        version,
        tenant: environment.id,
        tenantToken: environment.tenantToken,
        communicationEndpoint: this.communicationEndpoint(),
        sizeBytes: this.sizeBytes(),
        ...(this.serverCertificatePem ? { serverCertificatePem: this.serverCertificatePem } : {}),
      },
      this.state.signing,
    );
    const sha256 = createHash('sha256').update(body).digest('hex');
    return { body, sha256, etag: `"${sha256}"` };
  }
}
