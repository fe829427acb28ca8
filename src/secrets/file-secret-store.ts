import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertSecretRef, type SecretStore, type StoredSecret } from './secret-store.js';

interface Envelope {
  v: 1;
  alg: 'AES-256-GCM';
  iv: string;
  tag: string;
  data: string;
}

/**
 * Encrypted secrets in a local folder, one file per secret: AES-256-GCM with a random nonce per
 * write and the reference as additional authenticated data, so a file copied under another name
 * does not decrypt. For the sandbox and single-machine installations; SSM is the production store.
 */
export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;

  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new RangeError('the secret store key must be 32 bytes');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private file(ref: string): string {
    assertSecretRef(ref);
    return path.join(this.dir, `${ref.replaceAll('/', '__')}.secret`);
  }

  async put(ref: string, value: string, metadata: Record<string, string> = {}): Promise<void> {
    const file = this.file(ref);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(ref));
    const plaintext = JSON.stringify({ value, metadata, updatedAt: new Date().toISOString() } satisfies StoredSecret);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const envelope: Envelope = {
      v: 1,
      alg: 'AES-256-GCM',
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(envelope), { mode: 0o600 });
    renameSync(tmp, file);
  }

  async get(ref: string): Promise<StoredSecret | undefined> {
    let raw: string;
    try {
      raw = readFileSync(this.file(ref), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const envelope = JSON.parse(raw) as Envelope;
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(Buffer.from(ref));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    let plaintext: string;
    try {
      plaintext = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error(`secret ${ref} cannot be decrypted: wrong AUTOPILOT_SECRET_KEY or a tampered file`);
    }
    return JSON.parse(plaintext) as StoredSecret;
  }

  async delete(ref: string): Promise<void> {
    rmSync(this.file(ref), { force: true });
  }
}
