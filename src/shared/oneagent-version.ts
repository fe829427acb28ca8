/** A OneAgent version as `oneagentctl --version` prints it and installers carry it: `1.293.0.20240501-123456`. */
const ONEAGENT_VERSION = /\b(\d+\.\d+\.\d+\.\d{8}-\d{6})\b/;

/** The first OneAgent version in `text`, if any. */
export function parseOneAgentVersion(text: string): string | undefined {
  return ONEAGENT_VERSION.exec(text)?.[1];
}

/** Negative when `a` is older than `b`: major, minor, revision, then the build's date and time, as numbers. */
export function compareOneAgentVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
