import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import type { CodecKeyring } from './codec-keyring.js';
import { EncryptionCodec } from './encryption-codec.js';

const here = fileURLToPath(import.meta.url);
// Under tsx this is src/codec/*.ts, in the container dist/codec/*.js; the SDK loads it by path.
export const failureConverterPath = path.join(path.dirname(here), `failure-converter${path.extname(here)}`);

/**
 * One data converter for worker, clients and the workflow bundle alike. Workers mark what is not
 * sealed, so that only holders of a codec key steer them; clients read whatever they are given.
 */
export function autopilotDataConverter(keys: CodecKeyring, unsealed: 'accept' | 'mark' = 'accept'): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys, { unsealed })], failureConverterPath };
}
