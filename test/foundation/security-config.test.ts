import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codecKeysFor, sandboxCodecKeysFile } from '../../src/codec/codec-keys.js';
import { parseCodecKeys } from '../../src/codec/codec-keyring.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { thrownBy } from '../helpers/thrown.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-security-config-'));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};
const PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-not-a-real-key\n-----END PRIVATE KEY-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB-test\n-----END CERTIFICATE-----\n';
const KEY_B64 = randomBytes(32).toString('base64');

const configError = (env: Record<string, string>) => thrownBy(() => loadConfig(env), ConfigError);

describe('secure Temporal connection settings', () => {
  it('leaves TLS off for the local dev server, and turns it on for files, a server name, TEMPORAL_TLS or an API key', () => {
    expect(loadConfig({}).temporal.tls).toBeUndefined();
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({});
    expect(loadConfig({ TEMPORAL_API_KEY: 'cloud-key-0123456789' }).temporal.tls).toEqual({});
    expect(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud' }).temporal.tls).toEqual({
      serverNameOverride: 'ns.tmprl.cloud',
    });
    const mtls = loadConfig({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', CERT),
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', CERT),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', PRIVATE_KEY),
    }).temporal.tls!;
    expect(mtls.serverRootCACertificate?.toString()).toBe(CERT);
    expect(mtls.clientCertPair?.crt.toString()).toBe(CERT);
    expect(mtls.clientCertPair?.key.reveal()).toBe(PRIVATE_KEY);
  });

  it('names the variable for half an mTLS pair, a contradiction or an unreadable file', () => {
    expect(configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('only.pem', CERT) }).message).toContain(
      'TEMPORAL_TLS_CLIENT_KEY_PATH is required with TEMPORAL_TLS_CLIENT_CERT_PATH',
    );
    expect(configError({ TEMPORAL_TLS_CLIENT_KEY_PATH: file('only.key', PRIVATE_KEY) }).variable).toBe(
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
    );
    expect(
      configError({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca2.pem', CERT) }).variable,
    ).toBe('TEMPORAL_TLS');
    expect(configError({ TEMPORAL_TLS: 'yes' }).message).toContain('TEMPORAL_TLS must be true or false');
    const missing = configError({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'nope.pem') });
    expect(missing.variable).toBe('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(missing.message).toContain('nope.pem');
    expect(configError({ TEMPORAL_API_KEY: 'k', TEMPORAL_API_KEY_FILE: file('k', 'k') }).variable).toBe(
      'TEMPORAL_API_KEY',
    );
  });

  it('never prints the API key or the client private key', () => {
    const config = loadConfig({
      TEMPORAL_API_KEY_FILE: file('api-key', 'cloud-api-key-SECRET-0123\n'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client2.pem', CERT),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client2.key', PRIVATE_KEY),
    });
    expect(config.temporal.apiKey?.reveal()).toBe('cloud-api-key-SECRET-0123');
    for (const shown of [inspect(config, { depth: 10 }), JSON.stringify(config), String(config.temporal.apiKey)]) {
      expect(shown).not.toContain('cloud-api-key-SECRET-0123');
      expect(shown).not.toContain('not-a-real-key');
      expect(shown).not.toContain(Buffer.from('PRIVATE KEY').toString('hex').match(/../g)!.join(' '));
      expect(shown).not.toContain(JSON.stringify([...Buffer.from('PRIVATE KEY')]).slice(1, -1));
    }
  });
});

describe('payload encryption keys', () => {
  it('reads id:key entries from AUTOPILOT_CODEC_KEYS or its file, first one primary', () => {
    const other = randomBytes(32).toString('hex');
    const keys = loadConfig({ AUTOPILOT_CODEC_KEYS: `2026-11:${KEY_B64}, 2026-05:${other}` }).codec.keys!;
    expect(keys.primary.id).toBe('2026-11');
    expect(keys.ids).toEqual(['2026-11', '2026-05']);
    expect(keys.find('2026-05')?.key.toString('hex')).toBe(other);
    const fromFile = loadConfig({
      AUTOPILOT_CODEC_KEYS_FILE: file('codec-keys', `# newest first\nnew:${KEY_B64}\nold:${other}\n`),
    }).codec.keys!;
    expect(fromFile.ids).toEqual(['new', 'old']);
    expect(inspect(fromFile)).not.toContain(KEY_B64);
    expect(JSON.stringify({ keys: fromFile })).toBe('{"keys":"CodecKeyring(new, old)"}');
  });

  it('says which entry is wrong without showing key material', () => {
    const cases: [string, RegExp][] = [
      ['justakey', /entry 1 must be id:key/],
      [`a b:${KEY_B64}`, /entry 1 has an invalid key id/],
      ['short:c2hvcnQ=', /key short must be 32 bytes/],
      [`a:${KEY_B64},a:${KEY_B64}`, /key id a appears twice/],
      [' , ', /holds no key/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseCodecKeys(text, 'AUTOPILOT_CODEC_KEYS');
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(KEY_B64);
    }
  });

  it('requires keys with a configured Temporal, and generates one for the sandbox only when starting it', () => {
    const production = loadConfig({ TEMPORAL_ADDRESS: 'temporal.example.com:7233' });
    expect(() => codecKeysFor(production)).toThrow(/AUTOPILOT_CODEC_KEYS .*is required with TEMPORAL_ADDRESS/);

    const sandbox = loadConfig({ AUTOPILOT_DATA_DIR: mkdtempSync(path.join(dir, 'data-')) });
    expect(() => codecKeysFor(sandbox)).toThrow(/run npm start once/);
    const created: string[] = [];
    const keys = codecKeysFor(sandbox, { generate: true, onCreate: (f) => created.push(f) });
    expect(created).toEqual([sandboxCodecKeysFile(sandbox)]);
    expect(statSync(created[0]!).mode & 0o777).toBe(0o600);
    expect(readFileSync(created[0]!, 'utf8')).toMatch(/^sandbox-\d{4}-\d{2}-\d{2}:[A-Za-z0-9+/]{43}=\n$/);
    // The CLI and a restarted `npm start` read the same key.
    expect(codecKeysFor(sandbox).primary.key.equals(keys.primary.key)).toBe(true);
  });

  it('validates the codec server settings', () => {
    expect(configError({ AUTOPILOT_CODEC_AUTH_TOKEN: 'short' }).message).toContain(
      'AUTOPILOT_CODEC_AUTH_TOKEN must be at least 16 characters',
    );
    expect(configError({ AUTOPILOT_CODEC_UI_ORIGINS: 'https://ui.example.com/path' }).variable).toBe(
      'AUTOPILOT_CODEC_UI_ORIGINS',
    );
    expect(configError({ AUTOPILOT_CODEC_OIDC_ISSUER: 'not a url' }).variable).toBe('AUTOPILOT_CODEC_OIDC_ISSUER');
    const config = loadConfig({
      AUTOPILOT_CODEC_UI_ORIGINS: 'https://ui.example.com,http://localhost:8080',
      AUTOPILOT_CODEC_OIDC_ISSUER: 'https://login.example.com/',
      AUTOPILOT_CODEC_OIDC_AUDIENCE: 'temporal-ui',
    });
    expect(config.codec.server.uiOrigins).toEqual(['https://ui.example.com', 'http://localhost:8080']);
    expect(config.codec.server.oidc).toEqual({ issuer: 'https://login.example.com', audience: 'temporal-ui' });
    expect(loadConfig({}).codec.server).toMatchObject({ host: '127.0.0.1', port: 8091 });
  });
});

describe('fleet server credentials', () => {
  const READ = 'fleet-read-token-0123456789';
  const WRITE = 'fleet-write-token-0123456789';

  it('takes a read token and a write token, never the same one, and refuses the retired single token', () => {
    const config = loadConfig({
      AUTOPILOT_FLEET_READ_TOKEN: READ,
      AUTOPILOT_FLEET_WRITE_TOKEN_FILE: file('w', `${WRITE}\n`),
    });
    expect(config.fleetServer.tokens.read?.reveal()).toBe(READ);
    expect(config.fleetServer.tokens.write?.reveal()).toBe(WRITE);
    expect(JSON.stringify(config.fleetServer)).not.toContain(WRITE);
    expect(configError({ AUTOPILOT_FLEET_READ_TOKEN: 'short' }).message).toContain(
      'AUTOPILOT_FLEET_READ_TOKEN must be at least 16 characters',
    );
    expect(configError({ AUTOPILOT_FLEET_READ_TOKEN: READ, AUTOPILOT_FLEET_WRITE_TOKEN: READ }).message).toContain(
      'AUTOPILOT_FLEET_WRITE_TOKEN must differ from AUTOPILOT_FLEET_READ_TOKEN',
    );
    const retiredSettings: Record<string, string>[] = [
      { AUTOPILOT_FLEET_AUTH_TOKEN: READ },
      { AUTOPILOT_FLEET_AUTH_TOKEN_FILE: file('old', READ), AUTOPILOT_FLEET_READ_TOKEN: READ },
    ];
    for (const retired of retiredSettings) {
      const error = configError(retired);
      expect(error.variable).toBe(Object.keys(retired)[0]);
      expect(error.message).toContain('is no longer read');
      expect(error.message).toContain('AUTOPILOT_FLEET_READ_TOKEN');
      expect(error.message).toContain('AUTOPILOT_FLEET_WRITE_TOKEN');
      expect(error.message).not.toContain(READ);
    }
  });

  it('requires an audience with an OIDC issuer, and names who may write by a claim', () => {
    const missing = configError({ AUTOPILOT_FLEET_OIDC_ISSUER: 'https://login.example.com' });
    expect(missing.variable).toBe('AUTOPILOT_FLEET_OIDC_AUDIENCE');
    expect(missing.message).toContain('AUTOPILOT_FLEET_OIDC_ISSUER');
    const oidc = loadConfig({
      AUTOPILOT_FLEET_OIDC_ISSUER: 'https://login.example.com/',
      AUTOPILOT_FLEET_OIDC_AUDIENCE: 'autopilot-fleet',
      AUTOPILOT_FLEET_OIDC_WRITERS: 'fleet-operators, sre',
    }).fleetServer.oidc;
    expect(oidc).toEqual({
      issuer: 'https://login.example.com',
      audience: 'autopilot-fleet',
      writerClaim: 'groups',
      writers: ['fleet-operators', 'sre'],
    });
    expect(
      loadConfig({
        AUTOPILOT_FLEET_OIDC_ISSUER: 'https://login.example.com',
        AUTOPILOT_FLEET_OIDC_AUDIENCE: 'autopilot-fleet',
        AUTOPILOT_FLEET_OIDC_WRITER_CLAIM: 'realm_access.roles',
      }).fleetServer.oidc,
    ).toMatchObject({ writerClaim: 'realm_access.roles', writers: [] });
    expect(configError({ AUTOPILOT_FLEET_OIDC_WRITER_CLAIM: 'no spaces' }).variable).toBe(
      'AUTOPILOT_FLEET_OIDC_WRITER_CLAIM',
    );
  });

  it('takes the public URL as an origin, which the CLI then uses too', () => {
    const config = loadConfig({ AUTOPILOT_FLEET_PUBLIC_URL: 'https://Fleet.Example.com/' });
    expect(config.fleetServer.publicUrl).toBe('https://fleet.example.com');
    expect(config.fleetServer.url).toBe('https://fleet.example.com');
    expect(
      loadConfig({
        AUTOPILOT_FLEET_PUBLIC_URL: 'https://fleet.example.com',
        AUTOPILOT_FLEET_URL: 'http://127.0.0.1:8092',
      }).fleetServer.url,
    ).toBe('http://127.0.0.1:8092');
    expect(configError({ AUTOPILOT_FLEET_PUBLIC_URL: 'https://fleet.example.com/status' }).variable).toBe(
      'AUTOPILOT_FLEET_PUBLIC_URL',
    );
    expect(loadConfig({}).fleetServer.query).toEqual({ maxPages: 100, maxBytes: 16 * 1024 * 1024 });
  });
});
