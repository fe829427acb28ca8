import { createHash } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { sealPayload } from '../../src/codec/encryption-codec.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/** Bytes as the contract writes them: base64, as in Temporal's own JSON form of a payload. */
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const utf8 = (text: string) => new TextEncoder().encode(text);

/** A deterministic 32-byte key for a vector (never a real key: derived from a public label). */
const vectorKey = (label: string) =>
  createHash('sha256').update(`dynatrace-autopilot codec test vector ${label}`).digest();
const nonce = (n: number) => Uint8Array.from({ length: 12 }, (_, i) => (n * 16 + i) & 0xff);

const payloadJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data ?? new Uint8Array()),
});

/**
 * Payloads sealed by the TypeScript codec under fixed keys and nonces. An implementation in another
 * language decodes every `sealed` to `plain` (and must refuse the tampered one); the nonce is fixed
 * here only so the vectors are stable, a codec draws a fresh random one per payload.
 */
export function codecVectors() {
  const keys = [
    { id: 'vector-2026', key: vectorKey('vector-2026') },
    { id: 'vector-2027.rotated', key: vectorKey('vector-2027.rotated') },
  ];
  const plain = (encoding: string, data: string, extra: Record<string, string> = {}): Payload => ({
    metadata: {
      [METADATA_ENCODING_KEY]: utf8(encoding),
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, utf8(v)])),
    },
    data: utf8(data),
  });
  const cases: { name: string; key: (typeof keys)[number]; payload: Payload }[] = [
    {
      name: 'a workflow input (JSON object)',
      key: keys[0]!,
      payload: plain('json/plain', JSON.stringify({ customer: 'abc', stage: 'p1' })),
    },
    {
      name: 'a JSON string with non-ASCII text',
      key: keys[0]!,
      payload: plain('json/plain', JSON.stringify('Zürich ✓')),
    },
    {
      name: 'null (binary/null, no data)',
      key: keys[0]!,
      payload: { metadata: { [METADATA_ENCODING_KEY]: utf8('binary/null') } },
    },
    {
      name: 'a payload with extra metadata, under the second (older) key',
      key: keys[1]!,
      payload: plain('json/plain', '[1,2,3]', { messageType: 'example.v1.List' }),
    },
  ];
  const vectors = cases.map((c, i) => {
    const sealed = sealPayload(c.payload, c.key, nonce(i + 1));
    return {
      name: c.name,
      keyId: c.key.id,
      nonceHex: Buffer.from(nonce(i + 1)).toString('hex'),
      plain: payloadJson(c.payload),
      plainProtobuf: b64(PayloadMessage.encode(c.payload).finish()),
      sealed: payloadJson(sealed),
    };
  });
  const first = vectors[0]!;
  const tampered = Buffer.from(first.sealed.data, 'base64');
  tampered[20] = tampered[20]! ^ 0x01;
  return {
    description:
      'Payloads sealed by the Dynatrace Autopilot payload codec (docs/contract/codec.md). Keys are test keys, never used for real data.',
    algorithm: 'AES-256-GCM, 12-byte nonce, 16-byte tag, additional data = key id (UTF-8)',
    keys: keys.map((k) => ({ id: k.id, keyBase64: k.key.toString('base64') })),
    codecKeysVariable: keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(','),
    vectors,
    mustFail: [
      {
        name: 'one bit of the ciphertext flipped',
        keyId: first.keyId,
        sealed: { ...first.sealed, data: tampered.toString('base64') },
      },
      {
        name: 'sealed under vector-2026 but labelled vector-2027.rotated (the key id is authenticated)',
        keyId: 'vector-2027.rotated',
        sealed: {
          ...first.sealed,
          metadata: { ...first.sealed.metadata, 'encryption-key-id': b64(utf8('vector-2027.rotated')) },
        },
      },
    ],
  };
}
