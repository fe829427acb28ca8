import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ApplicationFailure, METADATA_ENCODING_KEY } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CodecKey, CodecKeyring } from './codec-keyring.js';
import { FailureType } from '../shared/failure-types.js';
import { UNSEALED_PAYLOAD, type UnsealedPayload } from './unsealed-payload.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * Seals one payload exactly as docs/contract/codec.md specifies: AES-256-GCM over the serialized
 * `temporal.api.common.v1.Payload`, the key id as additional authenticated data, and
 * `nonce (12) ‖ ciphertext ‖ tag (16)` as the new payload's data. The nonce is a parameter only so
 * the published test vectors can be made; the codec always draws a fresh random one.
 */
export function sealPayload(payload: Payload, key: CodecKey, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Payload {
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`a nonce is ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(key.id));
  const plain = PayloadMessage.encode(payload).finish();
  const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(key.id) },
    data: new Uint8Array(sealed),
  };
}

/**
 * AES-256-GCM over the whole serialized payload (its metadata too, so even the encoding of a value
 * is hidden), a fresh random nonce per payload, and the key id in clear metadata so the right key
 * is found after a rotation. The key id is also authenticated data: a payload cannot be passed off
 * as written under another key.
 */
export class EncryptionCodec implements PayloadCodec {
  /**
   * `mark` (workers): a payload that is not sealed reaches the workflow as an {@link UnsealedPayload}
   * marker, its content dropped, and the call is refused there. `accept` (clients, the codec server
   * showing a history, a sandbox that allows plain payloads): it passes as it is.
   */
  constructor(
    private readonly keys: CodecKeyring,
    private readonly options: { unsealed: 'accept' | 'mark' } = { unsealed: 'accept' },
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => sealPayload(payload, this.keys.primary));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = text(payload.metadata?.[METADATA_ENCODING_KEY]);
      if (encoding !== ENCRYPTED_ENCODING) {
        return this.options.unsealed === 'mark' ? unsealedMarker(encoding ?? '(none)') : payload;
      }
      const id = text(payload.metadata?.[KEY_ID_METADATA]);
      const entry = id === undefined ? undefined : this.keys.find(id);
      if (!entry) {
        throw ApplicationFailure.nonRetryable(
          `payload encrypted with key ${JSON.stringify(id ?? '(none)')}, which is not in AUTOPILOT_CODEC_KEYS (known: ${this.keys.ids.join(', ')})`,
          FailureType.PayloadDecryptionError,
        );
      }
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < NONCE_BYTES + TAG_BYTES) {
        throw ApplicationFailure.nonRetryable(
          `encrypted payload under key ${id} is truncated`,
          FailureType.PayloadDecryptionError,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', entry.key, sealed.subarray(0, NONCE_BYTES));
        decipher.setAAD(Buffer.from(entry.id));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return PayloadMessage.decode(plain);
      } catch {
        throw ApplicationFailure.nonRetryable(
          `payload under key ${id} failed authentication (wrong key material for that id, or tampered)`,
          FailureType.PayloadDecryptionError,
        );
      }
    });
  }
}

function unsealedMarker(encoding: string): Payload {
  const marker: UnsealedPayload = { [UNSEALED_PAYLOAD]: true, encoding: encoding.slice(0, 64) };
  return { metadata: { [METADATA_ENCODING_KEY]: utf8('json/plain') }, data: utf8(JSON.stringify(marker)) };
}
