import { readFileSync } from 'node:fs';
import path from 'node:path';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { breakingChanges, contractDocuments, type ContractJson } from '../../scripts/contract/contract-documents.js';
import { parseCodecKeys } from '../../src/codec/codec-keyring.js';
import { EncryptionCodec, sealPayload } from '../../src/codec/encryption-codec.js';
import { projectRoot } from '../../src/config/config.js';

const docs = path.join(projectRoot, 'docs/contract');
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const plainOf = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString()])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString(),
});

describe('the client contract (docs/contract)', () => {
  it('is current: every generated file is what the code says (npm run docs:contract writes them)', () => {
    for (const [file, text] of contractDocuments()) {
      expect(readFileSync(path.join(docs, file), 'utf8'), `docs/contract/${file}: run npm run docs:contract`).toBe(
        text,
      );
    }
  });

  it('tells a change that breaks clients from one that does not', () => {
    const contract = JSON.parse(contractDocuments().get('workflows.json')!) as ContractJson;
    const changed = structuredClone(contract);
    const onboard = changed.workflows.find((w) => w.type === 'OnboardCustomer')!;
    const result = onboard.result as { properties: Record<string, unknown>; required: string[] };
    const input = onboard.input as { properties: Record<string, unknown>; required: string[] };
    // Not breaking: a new optional input field, a new result field.
    input.properties.comment = { type: 'string' };
    result.properties.extra = { type: 'string' };
    expect(breakingChanges(contract, changed)).toEqual([]);
    // Breaking: a result field gone, a new required input field, a query gone, another id scheme.
    delete result.properties.environmentUrl;
    input.required.push('comment');
    onboard.queries = [];
    onboard.workflowId = { ...onboard.workflowId, pattern: 'onboard:<environmentId>' };
    expect(breakingChanges(contract, changed)).toEqual([
      'OnboardCustomer: workflow id onboard:<customer>-<stage> became onboard:<environmentId>',
      'OnboardCustomer input: field comment is now required',
      'OnboardCustomer result: field environmentUrl is gone',
      'OnboardCustomer: query progress is gone',
    ]);
  });

  it('publishes codec test vectors the TypeScript codec itself opens, seals and refuses', async () => {
    const vectors = JSON.parse(readFileSync(path.join(docs, 'codec-test-vectors.json'), 'utf8')) as {
      codecKeysVariable: string;
      vectors: {
        keyId: string;
        nonceHex: string;
        plain: { metadata: Record<string, string>; data: string };
        sealed: { metadata: Record<string, string>; data: string };
      }[];
      mustFail: { sealed: { metadata: Record<string, string>; data: string } }[];
    };
    const keys = parseCodecKeys(vectors.codecKeysVariable, 'vectors');
    const codec = new EncryptionCodec(keys);
    for (const v of vectors.vectors) {
      const [opened] = await codec.decode([fromJson(v.sealed)]);
      expect(plainOf(opened!)).toEqual(plainOf(fromJson(v.plain)));
      const resealed = sealPayload(fromJson(v.plain), keys.find(v.keyId)!, Buffer.from(v.nonceHex, 'hex'));
      expect(Buffer.from(resealed.data!).toString('base64')).toBe(v.sealed.data);
    }
    for (const bad of vectors.mustFail) await expect(codec.decode([fromJson(bad.sealed)])).rejects.toThrow();
    // A plain payload passes through: clients may send unencrypted input.
    const plain = { metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data: Buffer.from('{}') };
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});
