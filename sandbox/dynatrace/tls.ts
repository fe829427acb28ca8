import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The simulator's https identity: a certificate made at start, which is also the CA to trust. */
export interface ServingCertificate {
  key: string;
  cert: string;
  /** PEM file of `cert`, for DT_CA_CERT_FILE, `--cacert` and the like; removed by `remove()`. */
  caFile: string;
  remove(): void;
}

/**
 * A self-signed certificate for the simulator's names: 127.0.0.1 and localhost always, and `names`
 * (a SaaS environment's `<id>.localhost`, another listening host). It is its own CA, so clients
 * trust exactly this simulator and nothing else; a fresh one each start.
 */
export async function makeServingCertificate(names: readonly string[]): Promise<ServingCertificate> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dt-sim-tls-'));
  const key = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'ca.pem');
  const alternatives = [...new Set(['127.0.0.1', 'localhost', ...names])].map((n) =>
    isIP(n) ? `IP:${n}` : `DNS:${n}`,
  );
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      caFile,
      '-days',
      '30',
      '-subj',
      '/O=Dynatrace Autopilot sandbox/CN=Dynatrace simulator',
      '-addext',
      `subjectAltName=${alternatives.join(',')}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    const material = { key: readFileSync(key, 'utf8'), cert: readFileSync(caFile, 'utf8') };
    rmSync(key, { force: true });
    return { ...material, caFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
