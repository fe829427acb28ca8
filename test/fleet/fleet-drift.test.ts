import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentTokens } from '../../src/activities/environment-tokens.js';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { DynatraceClients } from '../../src/dynatrace/dynatrace-clients.js';
import { FleetHistory } from '../../src/fleet/fleet-history.js';
import { FleetAuthenticator } from '../../src/fleet-server/fleet-auth.js';
import { FleetMetrics } from '../../src/fleet-server/fleet-metrics.js';
import { createFleetServer } from '../../src/fleet-server/fleet-server.js';
import { FleetStatusBuilder, type FleetStatusSettings } from '../../src/fleet-server/fleet-status-builder.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { FleetStatus } from '../../src/shared/fleet-status.js';
import { driftKey, StandardsStore, type DriftFound } from '../../src/standards/standards-store.js';

const MINUTE = 60_000;
const SETTINGS: FleetStatusSettings = { scanIntervalSeconds: 30, retentionDays: 30, namespace: 'default' };
const quiet = () => undefined;
const QUIET_LOGGER = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

/**
 * Drift from the standards on the fleet status: the cells of environments with open drift, the
 * fleet-wide count, the same rebuilt for a moment of the time slider, and the Prometheus gauge.
 */
describe('drift on the fleet status', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-fleet-drift-'));
  let database: FleetDatabase;
  let registry: EnvironmentRegistry;
  let history: FleetHistory;
  let standards: StandardsStore;
  const now = Date.now();
  const foundAt = new Date(now - 30 * MINUTE);
  const checkedAgainAt = new Date(now - 10 * MINUTE);

  const field = (environmentId: string, name: string, action: DriftFound['action']): DriftFound => ({
    environmentId,
    standard: action === 'reported' ? 'alerting-profile' : 'anomaly-detection',
    object: `${environmentId}/object`,
    field: name,
    old: 'standard value',
    new: 'changed by hand',
    mode: action === 'reported' ? 'report' : 'enforce',
    action,
  });
  const cell = (status: FleetStatus, id: string) => status.environments.find((c) => c.id === id)!;

  beforeAll(async () => {
    database = await openFleetDatabase({ embeddedDir: path.join(dir, 'fleet-db') });
    registry = new EnvironmentRegistry(database.db);
    history = new FleetHistory(database.db);
    standards = new StandardsStore(database.db);
    for (const id of ['drift1-p1', 'drift2-p1', 'clean1-p1']) {
      await registry.record({
        id,
        kind: 'managed',
        cluster: 'c0',
        apiUrl: `http://127.0.0.1:9/e/${id}`,
        customer: id.slice(0, 6),
        stage: 'p1',
        source: 'onboarded',
      });
    }
    // A past moment shows only environments registered by then; these were, long before the drift.
    await database.db
      .updateTable('environments')
      .set({ created_at: new Date(now - 120 * MINUTE) })
      .execute();
    await standards.recordDrift(
      [
        field('drift1-p1', 'enabled', 'reported'),
        field('drift1-p1', 'threshold', 'reported'),
        field('drift2-p1', 'threshold', 'reapplied'),
      ],
      foundAt,
    );
    // The next check finds drift1's object still drifting, drift2's put right.
    await standards.resolveDrift(
      ['drift1-p1', 'drift2-p1', 'clean1-p1'],
      new Set(['enabled', 'threshold'].map((f) => driftKey('drift1-p1', 'alerting-profile', 'drift1-p1/object', f))),
      checkedAgainAt,
    );
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks the environments with open drift now', async () => {
    const status = await new FleetStatusBuilder(registry, history, undefined, SETTINGS, standards).build();
    expect(status.live).toBe(true);
    expect(cell(status, 'drift1-p1').drifted).toBe(2);
    expect(cell(status, 'drift2-p1')).not.toHaveProperty('drifted');
    expect(cell(status, 'clean1-p1')).not.toHaveProperty('drifted');
    expect(status.driftedEnvironments).toBe(1);
  });

  it('rebuilds the drift open at a moment of the time slider', async () => {
    const builder = new FleetStatusBuilder(registry, history, undefined, SETTINGS, standards);
    const between = await builder.build(new Date(now - 20 * MINUTE));
    expect(between.live).toBe(false);
    expect(cell(between, 'drift1-p1').drifted).toBe(2);
    expect(cell(between, 'drift2-p1').drifted).toBe(1);
    expect(cell(between, 'clean1-p1')).not.toHaveProperty('drifted');
    expect(between.driftedEnvironments).toBe(2);

    const atFinding = await builder.build(foundAt);
    expect(atFinding.driftedEnvironments).toBe(2);
    const atResolving = await builder.build(checkedAgainAt);
    expect(cell(atResolving, 'drift2-p1')).not.toHaveProperty('drifted');

    const before = await builder.build(new Date(now - 45 * MINUTE));
    expect(before.environments).toHaveLength(3);
    expect(before.environments.filter((c) => c.drifted !== undefined)).toEqual([]);
    expect(before.driftedEnvironments).toBe(0);
  });

  it('serves the drift in the status JSON and as a gauge on /metrics', async () => {
    const server = createFleetServer({
      status: new FleetStatusBuilder(registry, history, undefined, SETTINGS, standards),
      history,
      query: {
        registry,
        clients: new DynatraceClients([], { requestTimeoutMs: 1_000, maxConcurrentPerEnvironment: 1 }),
        tokens: new EnvironmentTokens(new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32))),
      },
      metrics: new FleetMetrics(),
      auth: new FleetAuthenticator({ allowUnauthenticated: true }),
      // What `inject` sends as Host.
      publicUrl: 'http://localhost',
      pageDir: path.join(dir, 'no-page'),
      logger: QUIET_LOGGER,
    });
    try {
      const past = await server.inject({
        method: 'GET',
        url: `/fleet/status?at=${new Date(now - 20 * MINUTE).toISOString()}`,
      });
      expect(past.statusCode).toBe(200);
      expect(past.json<FleetStatus>().driftedEnvironments).toBe(2);

      const metrics = await server.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('# TYPE autopilot_fleet_drifted_environments gauge');
      expect(metrics.body).toMatch(/^autopilot_fleet_drifted_environments 1$/m);
    } finally {
      await server.close();
    }
  });
});
