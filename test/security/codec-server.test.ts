import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecAuthenticator } from '../../src/codec/codec-auth.js';
import { parseCodecKeys } from '../../src/codec/codec-keyring.js';
import { createCodecServer } from '../../src/codec/codec-server.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { OidcVerifier } from '../../src/codec/oidc-verifier.js';
import { startCodecServer } from '../../src/codec/start-codec-server.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { freePort } from '../helpers/processes.js';
import { unfinishedPost } from '../helpers/raw-http.js';
import { testCodecKeys, testConfig } from '../helpers/temporal.js';
import { thrownBy } from '../helpers/thrown.js';
import { until } from '../helpers/until.js';

const UI = 'https://temporal-ui.example.com';
const TOKEN = `codec-${randomBytes(16).toString('hex')}`;
const logger = createJsonLogger('ERROR', () => undefined);
const codec = new EncryptionCodec(testCodecKeys);

const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

describe('the codec server the Temporal UI calls', () => {
  let app: FastifyInstance;
  let issuer: TestIssuer;
  /** The server side of every connection, to count the bytes it read. */
  const sockets: Socket[] = [];
  const plain = [defaultPayloadConverter.toPayload({ customer: 'cdx', host: 'cdx-vm-1' })];

  beforeAll(async () => {
    issuer = await startTestIssuer();
    app = createCodecServer({
      codec,
      auth: new CodecAuthenticator({
        token: new Secret(TOKEN),
        oidc: { issuer: issuer.issuer, audience: 'temporal-ui' },
      }),
      uiOrigins: [UI],
      namespace: 'default',
      logger,
    });
    app.server.on('connection', (socket: Socket) => sockets.push(socket));
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: path,
      payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('decodes what the workers encrypted, and encodes for the UI, for a caller with the token', async () => {
    const encrypted = (await codec.encode(plain)).map(toJson);
    const decoded = await post(
      '/codec/decode',
      { payloads: encrypted },
      { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default' },
    );
    expect(decoded.statusCode).toBe(200);
    expect(decoded.json()).toEqual({ payloads: plain.map(toJson) });
    expect(decoded.headers['x-content-type-options']).toBe('nosniff');
    expect(decoded.headers['cache-control']).toBe('no-store');

    const encoded = await post('/codec/encode', { payloads: plain.map(toJson) }, { authorization: `Bearer ${TOKEN}` });
    expect(encoded.statusCode).toBe(200);
    const [sealed] = encoded.json<{ payloads: ReturnType<typeof toJson>[] }>().payloads;
    expect(Buffer.from(sealed!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed!.data, 'base64').toString('latin1')).not.toContain('cdx-vm-1');
  });

  it('refuses callers without a valid credential, and never echoes what they sent', async () => {
    const body = { payloads: (await codec.encode(plain)).map(toJson) };
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-value-xyz' },
      { authorization: `Basic ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const answer = await post('/codec/decode', body, headers);
      expect(answer.statusCode).toBe(401);
      expect(answer.body).not.toContain('wrong-token-value-xyz');
      expect(answer.body).not.toContain(TOKEN);
    }
  });

  it('answers an unauthenticated 8 MiB POST with 401 before its body is read', async () => {
    const { port } = app.server.address() as AddressInfo;
    const announced = 8 * 1024 * 1024;
    const sent = 64 * 1024;
    const before = sockets.length;
    // The client announces 8 MiB and sends 64 KiB of it: a server that read the body before checking
    // credentials would wait for the rest and never answer.
    const answer = await unfinishedPost(`http://127.0.0.1:${port}/codec/decode`, { announced, sent });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'unauthorized' });
    const socket = sockets[before]!;
    await until('the server closed the connection', async () => (socket.destroyed ? true : undefined));
    // What the server read: the request line, the headers and at most what was sent, not the 8 MiB.
    expect(socket.bytesRead).toBeLessThanOrEqual(sent + 1024);
  });

  it('remembers a failed OIDC discovery with a back-off instead of asking the issuer for every request', async () => {
    const down = await startTestIssuer();
    try {
      down.setDown(true);
      const token = await down.sign({ aud: 'temporal-ui' });
      const body = { payloads: (await codec.encode(plain)).map(toJson) };
      const serverFor = (verifier: OidcVerifier) =>
        createCodecServer({
          codec,
          auth: new CodecAuthenticator({ oidc: verifier }),
          uiOrigins: [UI],
          namespace: 'default',
          logger,
        });
      const patient = serverFor(
        new OidcVerifier({
          issuer: down.issuer,
          audience: 'temporal-ui',
          discoveryBackoffMs: { min: 60_000, max: 60_000 },
        }),
      );
      const decode = (server: FastifyInstance) =>
        server.inject({
          method: 'POST',
          url: '/codec/decode',
          payload: JSON.stringify(body),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        });
      // At once and one after another: the issuer is asked once.
      const together = await Promise.all(Array.from({ length: 20 }, () => decode(patient)));
      for (let i = 0; i < 20; i++) together.push(await decode(patient));
      for (const answer of together) {
        expect(answer.statusCode).toBe(401);
        expect(answer.json<{ message: string }>().message).toMatch(
          /discovery failed \(ERR_OIDC_DISCOVERY_HTTP_503\); next attempt in \d+ s/,
        );
      }
      expect(down.discoveries()).toBe(1);
      await patient.close();

      // Once the back-off is over, the next request asks again, and a recovered issuer is used.
      const quick = serverFor(
        new OidcVerifier({ issuer: down.issuer, audience: 'temporal-ui', discoveryBackoffMs: { min: 300, max: 300 } }),
      );
      expect((await decode(quick)).statusCode).toBe(401);
      expect(down.discoveries()).toBe(2);
      down.setDown(false);
      await until('the recovered issuer is used', async () =>
        (await decode(quick)).statusCode === 200 ? true : undefined,
      );
      await quick.close();
    } finally {
      await down.stop();
    }
  });

  it('requires an audience with an OIDC issuer', () => {
    const error = thrownBy(() => loadConfig({ AUTOPILOT_CODEC_OIDC_ISSUER: 'https://login.example.com' }), ConfigError);
    expect(error.variable).toBe('AUTOPILOT_CODEC_OIDC_AUDIENCE');
    expect(error.message).toContain('any other application');
  });

  it('accepts an OIDC access token from the configured issuer for the right audience only', async () => {
    const body = { payloads: (await codec.encode(plain)).map(toJson) };
    const ok = await post('/codec/decode', body, {
      authorization: `Bearer ${await issuer.sign({ aud: 'temporal-ui' })}`,
    });
    expect(ok.statusCode).toBe(200);
    const wrongAudience = await post('/codec/decode', body, {
      authorization: `Bearer ${await issuer.sign({ aud: 'another-app' })}`,
    });
    expect(wrongAudience.statusCode).toBe(401);
    expect(wrongAudience.json()).toMatchObject({ message: 'access token rejected (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
    const { privateKey: forger } = await generateKeyPair('RS256');
    const forged = await post('/codec/decode', body, {
      authorization: `Bearer ${await issuer.sign({ aud: 'temporal-ui' }, { key: forger })}`,
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ message: 'access token rejected (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });
    const expired = await issuer.sign({ aud: 'temporal-ui' }, { expiresAt: Math.floor(Date.now() / 1000) - 600 });
    const late = await post('/codec/decode', body, { authorization: `Bearer ${expired}` });
    expect(late.statusCode).toBe(401);
    expect(late.json()).toMatchObject({ message: 'access token rejected (ERR_JWT_EXPIRED)' });
  });

  it('lets browsers in only from the UI origin, and serves only its namespace', async () => {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: UI, 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(UI);
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');

    const foreign = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const foreignPost = await post(
      '/codec/decode',
      { payloads: [] },
      { origin: 'https://evil.example.com', authorization: `Bearer ${TOKEN}` },
    );
    expect(foreignPost.statusCode).toBe(403);

    const otherNamespace = await post(
      '/codec/decode',
      { payloads: [] },
      { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'billing' },
    );
    expect(otherNamespace.statusCode).toBe(403);
    // What `temporal workflow show --codec-endpoint` sends.
    const cli = await post('/codec/decode', {}, { authorization: `Bearer ${TOKEN}`, 'x-namespace': '' });
    expect(cli.statusCode).toBe(200);
    expect(cli.json()).toEqual({ payloads: [] });
  });

  it('answers bad bodies and unknown keys with 4xx that name the key id, not the content', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await post('/codec/decode', { payloads: 'x' }, auth)).statusCode).toBe(400);
    expect((await post('/codec/decode', { payloads: [{ data: '%%%' }] }, auth)).statusCode).toBe(400);
    const foreignKey = new EncryptionCodec(parseCodecKeys(`retired-2025:${randomBytes(32).toString('base64')}`, 'T'));
    const answer = await post('/codec/decode', { payloads: (await foreignKey.encode(plain)).map(toJson) }, auth);
    expect(answer.statusCode).toBe(422);
    expect(answer.json()).toMatchObject({ error: 'codec-failed' });
    expect(answer.body).toContain('retired-2025');
    expect(answer.body).not.toContain('cdx');
  });

  it('refuses to start unauthenticated outside the sandbox, or on a non-loopback address', async () => {
    const port = String(await freePort());
    await expect(
      startCodecServer(testConfig({ AUTOPILOT_CODEC_PORT: port }), testCodecKeys, logger, { sandbox: false }),
    ).rejects.toThrow(/AUTOPILOT_CODEC_AUTH_TOKEN/);
    await expect(
      startCodecServer(
        testConfig({ AUTOPILOT_CODEC_PORT: port, AUTOPILOT_CODEC_HOST: '0.0.0.0' }),
        testCodecKeys,
        logger,
        {
          sandbox: true,
        },
      ),
    ).rejects.toThrow(/AUTOPILOT_CODEC_HOST/);
    const running = await startCodecServer(
      testConfig({ AUTOPILOT_CODEC_PORT: port, AUTOPILOT_CODEC_AUTH_TOKEN: TOKEN }),
      testCodecKeys,
      logger,
      { sandbox: false },
    );
    try {
      expect(running.endpoint).toBe(`http://127.0.0.1:${port}/codec`);
      const answer = await fetch(`${running.endpoint}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ payloads: (await codec.encode(plain)).map(toJson) }),
      });
      expect(answer.status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});
