import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorkerInfoActivities } from '../../src/activities/worker-info.js';
import { projectRoot } from '../../src/config/config.js';
import {
  autopilotClient,
  connectClient,
  connectWorker,
  temporalAccess,
  TemporalUnreachableError,
} from '../../src/temporal/connect.js';
import { WorkerSelfCheck } from '../../src/workflows/index.js';
import { WORKER_SELF_CHECK } from '../../src/shared/worker-self-check.js';
import { createTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../helpers/grpc-tls-proxy.js';
import { cleanEnv } from '../helpers/processes.js';
import {
  installTestRuntime,
  TEST_CODEC_KEYS_TEXT,
  testCodecKeys,
  testConfig,
  testWorkerDataConverter,
  uniqueTaskQueue,
} from '../helpers/temporal.js';

const run = promisify(execFile);
const API_KEY = 'tls-test-api-key-0123456789abcdef';
const SELF_CHECK = 'WorkflowService/PollWorkflowTaskQueue';

describe('Temporal over TLS, mTLS and an API key (a TLS-terminating gRPC proxy in front of the dev server)', () => {
  let pki: TestPki;
  let proxy: TlsProxy;
  let secure: Record<string, string>;

  beforeAll(async () => {
    installTestRuntime();
    pki = createTestPki();
    proxy = await startTlsProxy({ pki, upstream: inject('temporalAddress'), apiKey: API_KEY, requireClientCert: true });
    secure = {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      TEMPORAL_API_KEY: API_KEY,
    };
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('runs a worker and a client through mTLS with the API key on every call', async () => {
    const config = testConfig(secure);
    expect(config.temporal.tls).toMatchObject({ serverNameOverride: 'temporal.test' });
    const access = temporalAccess(config);
    const taskQueue = uniqueTaskQueue('tls');
    const connection = await connectWorker(access);
    const client = autopilotClient(await connectClient(access), config.temporal.namespace, testCodecKeys);
    try {
      const worker = await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: testWorkerDataConverter,
        activities: createWorkerInfoActivities({ identity: 'tls-worker', version: '1', startedAt: new Date(0) }),
      });
      const result = await worker.runUntil(
        client.workflow.execute(WorkerSelfCheck, {
          taskQueue,
          workflowId: `tls-self-check:${taskQueue}`,
          staticSummary: 'over TLS',
        }),
      );
      expect(result).toMatchObject({ identity: 'tls-worker', taskQueue });
    } finally {
      await client.connection.close();
      await connection.close();
    }
    expect(proxy.refused).toEqual([]);
    expect(proxy.forwarded.some((f) => f.method.endsWith(SELF_CHECK))).toBe(true);
    expect(proxy.forwarded.some((f) => f.method.endsWith('WorkflowService/StartWorkflowExecution'))).toBe(true);
    expect(new Set(proxy.forwarded.map((f) => f.clientCn))).toEqual(new Set(['autopilot-worker']));

    // The CLI reads the same variables (the webhook and the worker entry points share connect.ts).
    const cli = await run(
      process.execPath,
      [path.join(projectRoot, 'bin/autopilot'), 'status', `tls-self-check:${taskQueue}`, '--json'],
      {
        cwd: projectRoot,
        env: cleanEnv({ ...secure, AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT, AUTOPILOT_METRICS_ADDRESS: 'off' }),
      },
    );
    expect(JSON.parse(cli.stdout)).toMatchObject({ status: 'COMPLETED', type: WORKER_SELF_CHECK });
  });

  it.each([
    ['no client certificate', { TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' }],
    [
      'a client certificate from another CA',
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'stranger', TEMPORAL_TLS_CLIENT_KEY_PATH: 'stranger' },
    ],
    ['a server name the certificate does not have', { TEMPORAL_TLS_SERVER_NAME: 'other.test' }],
    [
      'no TLS at all',
      {
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '',
        TEMPORAL_TLS_SERVER_NAME: '',
        TEMPORAL_API_KEY: '',
      },
    ],
  ])('refuses %s, with a one-line reason naming TEMPORAL_ADDRESS', async (_what, change) => {
    const env: Record<string, string> = { ...secure };
    for (const [name, value] of Object.entries(change)) {
      if (value === '') delete env[name];
      else env[name] = value === 'stranger' ? (name.endsWith('CERT_PATH') ? pki.strangerCert : pki.strangerKey) : value;
    }
    const access = temporalAccess(testConfig(env));
    const failure = await connectClient(access, { connectTimeoutMs: 2_000 }).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(TemporalUnreachableError);
    expect((failure as Error).message).toContain(`cannot reach Temporal at ${proxy.address} (TEMPORAL_ADDRESS)`);
    expect((failure as Error).message).toMatch(/TEMPORAL_TLS/);
  });

  it('refuses a wrong API key even with a good certificate, and never prints the key', async () => {
    const before = proxy.refused.length;
    const failure = await connectClient(
      temporalAccess(testConfig({ ...secure, TEMPORAL_API_KEY: 'wrong-key-for-this-namespace' })),
    ).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure).toBeInstanceOf(TemporalUnreachableError);
    expect(failure!.message).toMatch(/invalid API key|UNAUTHENTICATED/);
    expect(failure!.message).not.toContain('wrong-key-for-this-namespace');
    expect(proxy.refused.length).toBeGreaterThan(before);
  });
});
