import { createHash } from 'node:crypto';
import { buildSignedInstaller, generateSigningMaterial } from './installer.js';
import type { SimulatorKnobs } from './knobs.js';
import type { EnvironmentRecord, InstallerSigningMaterial, SimulatorState } from './state.js';

type InstallerForgery = SimulatorKnobs['installerForgery'];

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
  /** The forger's own certificate: a valid signature, but not by the simulator's CA. */
  private impostor: Promise<InstallerSigningMaterial> | undefined;

  constructor(
    private readonly state: SimulatorState,
    private readonly communicationEndpoint: () => string,
    private readonly sizeBytes: () => number,
    private readonly forgery: () => InstallerForgery = () => 'none',
    /** The simulator's https certificate, which the installer trusts for its connection (none over http). */
    private readonly serverCertificatePem?: string,
  ) {}

  get(environment: EnvironmentRecord, version: string): Promise<BuiltInstaller> {
    const forgery = this.forgery();
    const key = `${environment.id}|${version}|${this.sizeBytes()}|${this.communicationEndpoint()}|${forgery}`;
    let entry = this.built.get(key);
    if (!entry) {
      entry = this.build(environment, version, forgery);
      entry.catch(() => this.built.delete(key));
      this.built.set(key, entry);
    }
    return entry;
  }

  private async build(
    environment: EnvironmentRecord,
    version: string,
    forgery: InstallerForgery,
  ): Promise<BuiltInstaller> {
    this.state.signing ??= await generateSigningMaterial();
    const signing =
      forgery === 'foreign-signature' ? await (this.impostor ??= generateSigningMaterial()) : this.state.signing;
    let body = await buildSignedInstaller(
      {
        version,
        tenant: environment.id,
        tenantToken: environment.tenantToken,
        communicationEndpoint: this.communicationEndpoint(),
        sizeBytes: this.sizeBytes(),
        ...(this.serverCertificatePem ? { serverCertificatePem: this.serverCertificatePem } : {}),
      },
      signing,
    );
    if (forgery === 'altered-after-signing') body = alteredAfterSigning(body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    return { body, sha256, etag: `"${sha256}"` };
  }
}

/** One command slipped into the signed script: the signature part is untouched, so its shape still holds. */
function alteredAfterSigning(body: Buffer): Buffer {
  const text = body.toString('latin1');
  const firstLine = text.indexOf('\n') + 1;
  return Buffer.from(`${text.slice(0, firstLine)}echo 'added after signing' >&2\n${text.slice(firstLine)}`, 'latin1');
}
