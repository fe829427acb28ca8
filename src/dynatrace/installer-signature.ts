import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

const BOUNDARY = '----SIGNED-INSTALLER';
// DER of OID 1.2.840.113549.1.7.2 (PKCS#7 signedData).
const SIGNED_DATA_OID = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);
const TAIL_BYTES = 256 * 1024;

export type SignatureInspection = { ok: true; signatureBytes: number } | { ok: false; reason: string };

/**
 * Checks that a downloaded installer ends in an S/MIME signature part after `----SIGNED-INSTALLER`
 * whose body is a DER PKCS#7 signedData structure. Reads only the file's tail: real installers are
 * over 100 MB.
 */
export async function inspectInstallerSignature(file: string): Promise<SignatureInspection> {
  const handle = await open(file, 'r');
  let tail: string;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    tail = buffer.toString('latin1');
  } finally {
    await handle.close();
  }
  const end = tail.lastIndexOf(`${BOUNDARY}--`);
  if (end < 0) return { ok: false, reason: 'no closing ----SIGNED-INSTALLER-- boundary' };
  const start = tail.lastIndexOf(`${BOUNDARY}\n`, end - 1);
  if (start < 0) return { ok: false, reason: 'no ----SIGNED-INSTALLER boundary before the signature' };
  const part = tail.slice(start + BOUNDARY.length + 1, end).replace(/\r\n/g, '\n');
  const split = part.indexOf('\n\n');
  if (split < 0) return { ok: false, reason: 'signature part has no header section' };
  const headers = part.slice(0, split).toLowerCase();
  if (!/content-type:\s*application\/(x-)?pkcs7-signature/.test(headers)) {
    return { ok: false, reason: 'signature part is not application/pkcs7-signature' };
  }
  const der = Buffer.from(part.slice(split + 2).replace(/\s+/g, ''), 'base64');
  if (der.length < 64 || der[0] !== 0x30 || !der.subarray(0, 64).includes(SIGNED_DATA_OID)) {
    return { ok: false, reason: 'signature is not a PKCS#7 signedData structure' };
  }
  return { ok: true, signatureBytes: der.length };
}

/**
 * Full verification against a trusted CA, as Dynatrace's own Ansible role does:
 * `openssl cms -verify` on the installer with the multipart/signed header put back in front.
 */
export async function verifyInstallerSignature(file: string, caFile: string): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve, reject) => {
    const openssl = spawn('openssl', ['cms', '-verify', '-CAfile', caFile, '-out', '/dev/null'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    openssl.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    openssl.once('error', reject);
    openssl.once('close', (code) => resolve({ ok: code === 0, detail: stderr.trim().split('\n')[0] ?? '' }));
    openssl.stdin.on('error', () => undefined);
    openssl.stdin.write(
      'Content-Type: multipart/signed; protocol="application/x-pkcs7-signature"; micalg="sha-256"; ' +
        `boundary="--SIGNED-INSTALLER"\n\n\n${BOUNDARY}\n`,
    );
    createReadStream(file).pipe(openssl.stdin);
  });
}
