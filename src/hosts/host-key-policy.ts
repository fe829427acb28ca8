import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export type HostKeyMode = 'strict' | 'accept-new' | 'off';

/**
 * Host-key checking like OpenSSH's StrictHostKeyChecking: `strict` accepts only keys in the
 * known_hosts file, `accept-new` records the first key it sees and then insists on it, `off` is for
 * throw-away lab hosts only. Hashed known_hosts entries (`|1|salt|hash`) are understood.
 */
export class HostKeyPolicy {
  constructor(
    readonly mode: HostKeyMode,
    private readonly knownHostsFile: string | undefined,
  ) {}

  /** `undefined` when the key is acceptable; otherwise why it is not. */
  check(address: string, port: number, key: Buffer): string | undefined {
    if (this.mode === 'off') return undefined;
    const hostPattern = port === 22 ? address : `[${address}]:${port}`;
    const known = this.knownKeys(hostPattern);
    if (known.some((k) => k.equals(key))) return undefined;
    if (known.length > 0) {
      return `the host key of ${hostPattern} does not match known_hosts: possible man-in-the-middle, or a reinstalled host (update ${this.knownHostsFile})`;
    }
    if (this.mode === 'accept-new' && this.knownHostsFile) {
      appendFileSync(this.knownHostsFile, `${hostPattern} ${keyType(key)} ${key.toString('base64')}\n`, {
        mode: 0o600,
      });
      return undefined;
    }
    return `the host key of ${hostPattern} is not in ${this.knownHostsFile ?? 'a known_hosts file (set AUTOPILOT_SSH_KNOWN_HOSTS_FILE)'}`;
  }

  private knownKeys(hostPattern: string): Buffer[] {
    if (!this.knownHostsFile || !existsSync(this.knownHostsFile)) return [];
    const keys: Buffer[] = [];
    for (const line of readFileSync(this.knownHostsFile, 'utf8').split('\n')) {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith('@')) continue;
      const [hosts, , base64] = trimmed.split(/\s+/);
      if (!hosts || !base64) continue;
      if (hosts.split(',').some((h) => matches(h, hostPattern))) {
        keys.push(Buffer.from(base64, 'base64'));
      }
    }
    return keys;
  }
}

function matches(entry: string, hostPattern: string): boolean {
  if (entry.startsWith('|1|')) {
    const [, , salt, hash] = entry.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(hostPattern).digest('base64') === hash;
  }
  return entry === hostPattern;
}

/** The key type name at the start of an SSH public key blob. */
function keyType(key: Buffer): string {
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('ascii');
}
