import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileSha256 } from './file-checksum.js';
import { installerFileName, type InstallerManifest, type InstallerStore } from './installer-store.js';

/**
 * Installers in a folder of this machine: the staging copy is the store. For the single-process
 * sandbox and tests; workers on several machines share an S3 bucket instead.
 */
export class FolderInstallerStore implements InstallerStore {
  constructor(readonly dir: string) {}

  stagingPath(environmentId: string, version: string): string {
    const dir = path.join(this.dir, environmentId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return path.join(dir, installerFileName(version));
  }

  /** Only while the file still has the recorded checksum: a manifest must mean a usable installer. */
  async manifest(environmentId: string, version: string): Promise<InstallerManifest | undefined> {
    const file = this.stagingPath(environmentId, version);
    if (!existsSync(`${file}.json`)) return undefined;
    const manifest = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as InstallerManifest;
    return (await fileSha256(file)) === manifest.sha256 ? manifest : undefined;
  }

  async publish(manifest: InstallerManifest): Promise<void> {
    const file = `${this.stagingPath(manifest.environmentId, manifest.version)}.json`;
    writeFileSync(`${file}.tmp`, JSON.stringify(manifest, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  async stage(environmentId: string, version: string, sha256: string): Promise<string | undefined> {
    const file = this.stagingPath(environmentId, version);
    return (await fileSha256(file)) === sha256 ? file : undefined;
  }
}
