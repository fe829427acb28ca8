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

export const installerFileName = (version: string) => `Dynatrace-OneAgent-Linux-${version}.sh`;

/**
 * The installers each environment's hosts get, one per environment and version (the installer is
 * pre-configured for its environment), each with a manifest recording checksum, size and ETag.
 * Hosts are served from a worker's local staging copy; Dynatrace is asked once per version for the
 * whole store, however many workers share it.
 */
export interface InstallerStore {
  /** Where this worker keeps its own copy (a download from Dynatrace lands here). */
  stagingPath(environmentId: string, version: string): string;
  /** The manifest of a complete installer in the store, or undefined when it holds none. */
  manifest(environmentId: string, version: string): Promise<InstallerManifest | undefined>;
  /**
   * Puts the staged installer into the store, then its manifest: a manifest always means a complete,
   * checked installer.
   */
  publish(manifest: InstallerManifest): Promise<void>;
  /**
   * A local copy with exactly this checksum, fetched from the store when this worker has none;
   * undefined when the store does not hold it. Bytes that differ from the checksum are refused with
   * a non-retryable failure.
   */
  stage(environmentId: string, version: string, sha256: string): Promise<string | undefined>;
}
