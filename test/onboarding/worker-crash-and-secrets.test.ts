import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { testActivityDeps, testFleetDatabase } from '../helpers/autopilot.js';
import { cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import {
  capturedLogLines,
  connectToTestServer,
  createTestWorker,
  historyText,
  TEST_CODEC_KEYS_TEXT,
  uniqueTaskQueue,
} from '../helpers/temporal.js';

const NO_FAULTS = { rate500: 0, rate429: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [] };

describe('a worker killed in the middle of onboarding', () => {
  let env: TestWorkflowEnvironment;
  let dt: TestCluster;
  let worker: SpawnedProcess | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-crash-'));
  const key = randomBytes(32);
  const taskQueue = uniqueTaskQueue('crash');
  let database: Awaited<ReturnType<typeof testFleetDatabase>> | undefined;

  beforeAll(async () => {
    env = await connectToTestServer();
    dt = await startTestCluster({ tls: true });
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await database?.close();
    await dt.stop();
    await env.teardown();
  });

  const settings = {
    secretsDir: path.join(dir, 'secrets'),
    installersDir: path.join(dir, 'installers'),
  };

  // Two worker processes start one after another: on a loaded CI machine that alone took most of a minute.
  it(
    'resumes on a new worker with no duplicate environment, group, token or download, and no secret leaks',
    { timeout: 150_000 },
    async () => {
      // Token creation hangs: the first worker dies after the environment PUT, before any token exists.
      dt.simulator.setKnobs({
        faults: { ...NO_FAULTS, rateHang: 1, routes: ['POST /e/{environmentId}/api/v2/apiTokens'] },
      });
      worker = spawnEntryPoint(
        'src/workers/main.ts',
        cleanEnv({
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
          TEMPORAL_NAMESPACE: inject('temporalNamespace'),
          AUTOPILOT_TASK_QUEUE: taskQueue,
          AUTOPILOT_METRICS_ADDRESS: 'off',
          DT_CLUSTER_URL: dt.simulator.url,
          DT_CA_CERT_FILE: dt.simulator.caFile!,
          DT_CLUSTER_TOKEN: dt.clusterToken,
          DT_INSTALLER_CA_FILE: dt.simulator.installerCaFile,
          AUTOPILOT_SECRET_KEY: key.toString('base64'),
          AUTOPILOT_SECRETS_DIR: settings.secretsDir,
          AUTOPILOT_INSTALLER_CACHE_DIR: settings.installersDir,
          AUTOPILOT_EMBEDDED_DATABASE_DIR: path.join(dir, 'fleet-db'),
        }),
      );
      await worker.waitForOutput(/"msg":"Worker started"/, 60_000);

      const handle = await startOnboarding(
        env.client,
        { customer: 'crash', stage: 'p1', timeouts: { apiCall: '5 seconds', retryWindow: '10 minutes' } },
        { taskQueue },
      );
      const deadline = Date.now() + 30_000;
      while (((await dt.stats()).faultsInjected.hang ?? 0) < 1) {
        if (Date.now() > deadline)
          throw new Error(`the first worker never reached token creation:\n${worker.stdout().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const atKill = await dt.stats();
      expect(atKill.created.environments).toBe(1);
      expect(atKill.created.apiTokens ?? 0).toBe(0);
      worker.child.kill('SIGKILL');
      await worker.exit;
      dt.simulator.setKnobs({ faults: NO_FAULTS });

      // The killed worker's embedded database too: it recovers from the kill as PostgreSQL does.
      database = await testFleetDatabase(dir);
      const replacement = await createTestWorker(env, {
        taskQueue,
        activities: createActivities(
          // The same secret store and installer cache as the killed worker's (settings above).
          testActivityDeps({ dt, dir, registry: database.registry, secretKey: key }),
        ),
      });
      const result = await replacement.runUntil(handle.result());
      expect(result).toMatchObject({ environmentId: 'crash-p1', createdEnvironment: true, skippedSteps: [] });

      const stats = await dt.stats();
      expect(stats.created.environments).toBe(1);
      expect(stats.created.groups).toBe(2);
      expect(stats.byEnvironment['crash-p1']).toMatchObject({ apiTokensCreated: 2, installerDownloads: 1 });
      // What is left: the two tokens of ours, and at most the killed worker's token-management token,
      // which lives ten minutes; every short-lived one that finished its work revoked itself.
      const left = [...dt.simulator.state.environments.get('crash-p1')!.tokens.values()];
      expect(
        left
          .filter((t) => t.kind === 'api')
          .map((t) => t.name)
          .sort(),
      ).toEqual(['dynatrace-autopilot-automation', 'dynatrace-autopilot-installer-download']);
      for (const t of left.filter((t) => t.kind !== 'api')) {
        expect(t.expirationDate! - Date.now()).toBeLessThanOrEqual(10 * 60_000);
      }

      // No token value of any kind in the workflow history or in a worker log.
      const secrets = [
        ...[...dt.simulator.state.clusterTokens.values()].map((t) => t.token),
        ...[...dt.simulator.state.environments.values()].flatMap((e) => [
          e.tenantToken,
          ...[...e.tokens.values()].map((t) => t.token),
        ]),
      ];
      expect(secrets.length).toBeGreaterThanOrEqual(5);
      const history = await historyText(handle);
      const logs = [worker.stdout(), worker.stderr(), ...capturedLogLines].join('\n');
      expect(logs).toContain('"msg":"Worker started"');
      expect(logs).toContain('"msg":"Environment token created"');
      for (const secret of secrets) {
        expect(history).not.toContain(secret);
        expect(logs).not.toContain(secret);
      }
      expect(history).toContain('dynatrace/crash-p1/installer-download-token');
    },
  );
});
