import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { SecretStore } from '../../src/secrets/secret-store.js';
import { SsmSecretStore } from '../../src/secrets/ssm-secret-store.js';
import { testSsmClient } from '../helpers/aws.js';

function contract(name: string, make: () => SecretStore) {
  describe(`${name} secret store`, () => {
    it('stores, reads, overwrites and deletes a secret with its metadata', async () => {
      const store = make();
      const ref = `dynatrace/env-${randomUUID().slice(0, 8)}/installer-download-token`;
      expect(await store.get(ref)).toBeUndefined();
      await store.put(ref, 'dt0c01.FIRST.value', { tokenId: 'dt0c01.FIRST', expiresAt: '2030-01-01T00:00:00.000Z' });
      expect(await store.get(ref)).toMatchObject({
        value: 'dt0c01.FIRST.value',
        metadata: { tokenId: 'dt0c01.FIRST', expiresAt: '2030-01-01T00:00:00.000Z' },
      });
      await store.put(ref, 'dt0c01.SECOND.value');
      expect((await store.get(ref))?.value).toBe('dt0c01.SECOND.value');
      await store.delete(ref);
      await store.delete(ref);
      expect(await store.get(ref)).toBeUndefined();
    });

    it('refuses references that are not lowercase path segments', async () => {
      await expect(make().put('../escape', 'x')).rejects.toThrow(/invalid secret reference/);
      await expect(make().get('Upper/Case')).rejects.toThrow(/invalid secret reference/);
    });
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-secrets-'));
const key = randomBytes(32);
contract('file', () => new FileSecretStore(dir, key));
contract('SSM (moto)', () => new SsmSecretStore(testSsmClient(), `/autopilot-test-${process.pid}`));

describe('file secret store encryption', () => {
  it('keeps only ciphertext on disk, bound to the reference and the key', async () => {
    const store = new FileSecretStore(dir, key);
    await store.put('dynatrace/abc-p1/token-management', 'dt0c01.PLAINTEXTNEVERONDISK');
    const files = readdirSync(dir);
    const file = path.join(dir, 'dynatrace__abc-p1__token-management.secret');
    expect(files).toContain('dynatrace__abc-p1__token-management.secret');
    expect(readFileSync(file, 'utf8')).not.toContain('PLAINTEXTNEVERONDISK');

    await expect(new FileSecretStore(dir, randomBytes(32)).get('dynatrace/abc-p1/token-management')).rejects.toThrow(
      /cannot be decrypted: wrong AUTOPILOT_SECRET_KEY/,
    );
    // Moved under another reference, the ciphertext no longer authenticates.
    renameSync(file, path.join(dir, 'dynatrace__xyz-p1__token-management.secret'));
    await expect(store.get('dynatrace/xyz-p1/token-management')).rejects.toThrow(/cannot be decrypted/);
    writeFileSync(file, '{}');
  });
});

describe('SSM secret store', () => {
  it('writes SecureString parameters under the prefix', async () => {
    const ssm = testSsmClient();
    const store = new SsmSecretStore(ssm, '/autopilot-prefix-test');
    await store.put('dynatrace/abc-p1/token-management', 'dt0c01.SSMVALUE');
    const raw = await ssm.send(
      new GetParameterCommand({ Name: '/autopilot-prefix-test/dynatrace/abc-p1/token-management' }),
    );
    expect(raw.Parameter?.Type).toBe('SecureString');
    // Read without decryption, a SecureString comes back encrypted (moto marks it with the KMS key
    // instead of encrypting, reference §3): the store always asks for decryption explicitly.
    expect(raw.Parameter?.Value?.startsWith('kms:alias/aws/ssm:')).toBe(true);
    expect(() => new SsmSecretStore(ssm, '/aws/reserved')).toThrow(/invalid SSM parameter prefix/);
  });
});
