import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { openFleetDatabase } from '../../src/database/open-fleet-database.js';
import { autopilotCli, cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { sandboxPorts } from '../helpers/worker-process.js';

/**
 * `autopilot enroll-fleet` where the fleet database is PostgreSQL: the CLI and the worker have inventory
 * folders of their own, so the fleet can only run if the inventory travels through the database.
 */
describe('enroll-fleet with AUTOPILOT_DATABASE_URL', () => {
  let postgres: PostgresServer;
  let sandbox: SpawnedProcess;
  let workerEnv: Record<string, string | undefined>;
  let cliEnv: Record<string, string | undefined>;
  const autopilot = autopilotCli(() => cliEnv);

  beforeAll(async () => {
    postgres = await startPostgresServer();
    const ports = await sandboxPorts();
    // One data folder (the sandbox's generated codec key is the CLI's too), inventory folders apart.
    const common = {
      ...ports,
      AUTOPILOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'autopilot-pg-fleet-')),
      AUTOPILOT_DATABASE_URL: postgres.url,
      AUTOPILOT_METRICS_ADDRESS: 'off',
    };
    workerEnv = cleanEnv({
      ...common,
      AUTOPILOT_INVENTORY_DIR: path.join(common.AUTOPILOT_DATA_DIR, 'worker-inventories'),
    });
    cliEnv = cleanEnv({ ...common, AUTOPILOT_INVENTORY_DIR: path.join(common.AUTOPILOT_DATA_DIR, 'cli-inventories') });
    sandbox = spawnEntryPoint('sandbox/start.ts', workerEnv);
    await sandbox.waitForOutput(/Press Ctrl-C to stop\./, 90_000);
  }, 180_000);
  afterAll(async () => {
    sandbox?.child.kill('SIGINT');
    await sandbox?.exit;
    await postgres?.stop();
  });

  it('stores the inventory in the fleet database, where the worker reads it, and no folder holds it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-inventory-'));
    const inventory = path.join(dir, 'hosts.csv');
    writeFileSync(
      inventory,
      ['hostname,address,customer,stage,os', 'pgf-a,127.0.0.1,pgf,p1,linux', 'pgf-b,127.0.0.1,pgf,p1,linux'].join(
        '\n',
      ) + '\n',
    );
    const { code, stdout, stderr } = await autopilot('enroll-fleet', '--inventory', inventory, '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'COMPLETED', total: 2, done: 2, failed: 0 });

    const database = await openFleetDatabase({ url: postgres.url, embeddedDir: '/nonexistent' });
    try {
      const rows = await database.db.selectFrom('inventories').select(['ref', 'hosts']).execute();
      expect(rows).toEqual([{ ref: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), hosts: 2 }]);
    } finally {
      await database.close();
    }
    for (const env of [workerEnv, cliEnv]) {
      const folder = env.AUTOPILOT_INVENTORY_DIR!;
      expect(existsSync(folder) ? readdirSync(folder) : []).toEqual([]);
    }
  });
});
