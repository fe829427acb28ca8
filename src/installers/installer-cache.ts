import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface InstallerManifest {
  environmentId: string;
  version: string;
  fileName: string;
  sha256: string;
  size: number;
  etag?: string;
  signature: 'verified' | 'shape-checked';
  downloadedAt: string;
}

/**
 * The installers each environment's hosts get, one file per environment and version (the installer
 * is pre-configured for its environment), with a manifest recording checksum, size and ETag. Hosts
 * are served from here; Dynatrace is asked once per version.
 */
export class InstallerCache {
  constructor(readonly dir: string) {}

  fileName(version: string): string {
    return `Dynatrace-OneAgent-Linux-${version}.sh`;
  }

  installerPath(environmentId: string, version: string): string {
    const dir = path.join(this.dir, environmentId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return path.join(dir, this.fileName(version));
  }

  manifest(environmentId: string, version: string): InstallerManifest | undefined {
    const file = `${this.installerPath(environmentId, version)}.json`;
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as InstallerManifest;
  }

  writeManifest(manifest: InstallerManifest): void {
    const file = `${this.installerPath(manifest.environmentId, manifest.version)}.json`;
    writeFileSync(`${file}.tmp`, JSON.stringify(manifest, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  /** True when the cached file is there and still has the recorded checksum. */
  async intact(manifest: InstallerManifest): Promise<boolean> {
    const file = this.installerPath(manifest.environmentId, manifest.version);
    if (!existsSync(file)) return false;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex') === manifest.sha256;
  }
}
