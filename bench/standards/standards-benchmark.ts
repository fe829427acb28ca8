import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createStandardsActivities } from '../../src/activities/standards/index.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';
import { openFleetDatabase } from '../../src/database/open-fleet-database.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { EnvironmentApplyOutcome, PlanCounts, StandardsSet } from '../../src/shared/standards.js';
import { loadStandards } from '../../src/standards/load-standards.js';
import { StandardsStore } from '../../src/standards/standards-store.js';
import { APPLY_BATCH, DEFAULT_APPLY_CONCURRENCY } from '../../src/workflows/standards/standards-steps.js';
import { fourClusterAccess, seedRegisteredEnvironment } from '../harness/seed-environment.js';
import { startDynatraceSimulator, type DynatraceSimulator } from '../../sandbox/dynatrace/server.js';

export interface StandardsBenchmarkOptions {
  environments: number;
  latencyMs: number;
  latencyJitterMs: number;
  capacityPerEnvironment: number;
  log?: (line: string) => void;
}

export interface StandardsStep {
  name: string;
  seconds: number;
  /** CPU seconds of the one process that runs the simulator, the activities and the embedded database. */
  cpuSeconds: number;
  /** Settings listings (GET) and writes (POST, PUT, DELETE of settings; group and environment writes). */
  reads: number;
  writes: number;
  counts?: PlanCounts;
}

export interface StandardsBenchmarkResult {
  environments: number;
  standards: number;
  schemas: number;
  latency: string;
  steps: StandardsStep[];
  /** Over the whole fleet, per environment. */
  maxReadsPerEnvironmentPerPlan: number;
  maxWritesPerEnvironmentAfterOneChange: number;
  memory: { rssMiB: number; heapUsedMiB: number };
  /** Time spent waiting for Dynatrace (latency × requests / concurrency) against wall time of the first plan. */
  binding: string;
}

const STAGES = ['p1', 'p2', 't1', 't2', 'd1'];

/** Ten standards over four settings schemas and the cluster's groups: what a provider's baseline looks like. */
function standardsFolder(dir: string, zoneDescription: string): string {
  const folder = path.join(dir, `standards-${zoneDescription.replace(/\W+/g, '-')}`);
  mkdirSync(folder, { recursive: true });
  const zone = (name: string, environments: string, selector: string, extra = '') =>
    `name: ${name}\nkind: settings\nenvironments: '${environments}'\nschemaId: builtin:management-zones\nvalue:\n` +
    `  name: '${name} {{ environment.customer }}'\n  description: '${name === 'zone' ? zoneDescription : `Zone ${name}`}'\n  rules:\n` +
    `    - { type: SELECTOR, entitySelector: '${selector}' }\n${extra}`;
  const tag = (name: string, environments: string, value: string, mode = 'enforce') =>
    `name: ${name}\nkind: settings\nmode: ${mode}\nenvironments: '${environments}'\nschemaId: builtin:tags.auto-tagging\n` +
    `value:\n  name: ${name}\n  rules:\n    - { type: SELECTOR, entitySelector: type(HOST), valueFormat: '${value}' }\n`;
  const files: Record<string, string> = {
    'zone.yaml': zone('zone', '*', 'type(HOST),tag("customer:{{ environment.customer }}")'),
    'zone-db.yaml': zone('zone-db', '*-p*', 'type(HOST),hostGroupName("{{ environment.customer }}-db")'),
    'zone-apps.yaml': zone(
      'zone-apps',
      '*',
      'type(SERVICE),tag("customer:{{ environment.customer }}")',
      "overrides:\n  - environments: 'customer:sb000*'\n    value: { description: 'first customers' }\n",
    ),
    'tag-stage.yaml': tag('tag-stage', '*', '{{ environment.stage }}', 'report'),
    'tag-owner.yaml': tag('tag-owner', '*', 'platform-team'),
    'tag-tier.yaml': tag('tag-tier', '*-p*', 'gold'),
    'paging.yaml':
      'name: paging\nkind: settings\nschemaId: builtin:alerting.profile\nvalue:\n  name: Paging\n  managementZone: null\n' +
      '  severityRules:\n    - { severityLevel: AVAILABILITY, delayInMinutes: 0, tagFilterIncludeMode: NONE }\n' +
      '    - { severityLevel: ERRORS, delayInMinutes: 5, tagFilterIncludeMode: NONE }\n  eventFilters: []\n',
    'quiet.yaml':
      "name: quiet\nkind: settings\nenvironments: '*-t* *-d*'\nschemaId: builtin:alerting.profile\nvalue:\n  name: Quiet\n" +
      '  managementZone: null\n  severityRules:\n    - { severityLevel: AVAILABILITY, delayInMinutes: 60, tagFilterIncludeMode: NONE }\n' +
      '  eventFilters: []\n',
    'on-call.yaml':
      'name: on-call\nkind: settings\nschemaId: builtin:problem.notifications\nvalue:\n  enabled: true\n  type: WEBHOOK\n' +
      '  displayName: On-call\n  alertingProfile: \'{{ ref "paging" }}\'\n  webHookNotification:\n' +
      "    url: 'https://oncall.example.com/hook/{{ environment.id }}'\n    headers: []\n" +
      '    payload: \'{"State":"{State}","PID":"{PID}"}\'\n',
    'operators.yaml':
      "name: operators\nkind: user-group\ngroup:\n  name: '{{ environment.customer }}-operators'\n  permissions: [VIEWER, MANAGE_SETTINGS]\n",
  };
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(folder, file), text);
  return folder;
}

const quietActivity = () => {
  const quiet = () => undefined;
  return new MockActivityEnvironment(undefined, {
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
};

function calls(simulator: DynatraceSimulator): { reads: number; writes: number; byEnvironment: Map<string, number> } {
  let reads = 0;
  let writes = 0;
  for (const [route, statuses] of Object.entries(simulator.stats.requests)) {
    const n = Object.values(statuses).reduce((a, b) => a + b, 0);
    if (route === 'GET /e/{environmentId}/api/v2/settings/objects') reads += n;
    if (/^(POST|PUT|DELETE) .*(settings\/objects|onpremise\/groups|cluster\/v2\/environments\/)/.test(route))
      writes += n;
  }
  const byEnvironment = new Map<string, number>();
  for (const [id, counter] of Object.entries(simulator.stats.byEnvironment)) {
    byEnvironment.set(id, counter.requests ?? 0);
  }
  return { reads, writes, byEnvironment };
}

/**
 * Standards at fleet size, measured at the activities the StandardsPlan and StandardsApply
 * workflows run (one plan activity over the fleet; apply batches of 25, four at a time, as the
 * workflow runs them): a first plan, the apply, a plan right after it (which must find nothing),
 * then one standard changed, planned and applied again.
 */
export async function runStandardsBenchmark(options: StandardsBenchmarkOptions): Promise<StandardsBenchmarkResult> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-bench-standards-'));
  const simulator = await startDynatraceSimulator({
    knobs: {
      latencyMs: options.latencyMs,
      latencyJitterMs: options.latencyJitterMs,
      throttle: { maxConcurrent: options.capacityPerEnvironment, queueSize: 100 },
    },
    clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
  });
  const database = await openFleetDatabase({ embeddedDir: path.join(dir, 'fleet-db') });
  try {
    const registry = new EnvironmentRegistry(database.db);
    const secrets = new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32));
    const customers = Math.ceil(options.environments / STAGES.length);
    const ids = Array.from({ length: customers }, (_, c) => STAGES.map((s) => `sb${String(c).padStart(4, '0')}-${s}`))
      .flat()
      .slice(0, options.environments);
    const seedStart = performance.now();
    for (const [i, id] of ids.entries()) {
      const [customer, stage] = id.split('-') as [string, string];
      await seedRegisteredEnvironment(simulator, registry, secrets, {
        id,
        cluster: `c${Math.floor(i / STAGES.length) % 4}`,
        customer,
        stage,
      });
      if ((i + 1) % 1000 === 0) log(`  seeded ${i + 1}/${ids.length} environments`);
    }
    log(`  seeding: ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const dynatrace = fourClusterAccess(simulator, registry, secrets, {
      capacityPerEnvironment: options.capacityPerEnvironment,
      requestTimeoutMs: 60_000,
    });
    const activities = createStandardsActivities({
      dynatrace,
      secrets,
      standards: new StandardsStore(database.db),
      webhook: { publicUrl: undefined, apiKey: undefined },
    });
    const steps: StandardsStep[] = [];
    let planNumber = 0;
    const measure = async <T>(name: string, work: () => Promise<T>, counts?: (result: T) => PlanCounts) => {
      simulator.stats.reset();
      const started = performance.now();
      const cpu = process.cpuUsage();
      const result = (await quietActivity().run(work)) as T;
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const cpuSeconds = (used.user + used.system) / 1e6;
      const { reads, writes, byEnvironment } = calls(simulator);
      const step: StandardsStep = {
        name,
        seconds,
        cpuSeconds,
        reads,
        writes,
        ...(counts ? { counts: counts(result) } : {}),
      };
      steps.push(step);
      log(
        `  ${name}: ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU), ${reads} settings reads, ${writes} writes`,
      );
      return { result, byEnvironment };
    };
    const plan = (set: StandardsSet, name: string) =>
      measure(
        name,
        async () => {
          await activities.recordStandardsSet({ set });
          return activities.planStandards({
            setHash: set.hash,
            selector: '*',
            planId: `bench-plan-${++planNumber}`,
            purpose: 'plan',
            concurrency: 200,
          });
        },
        (summary) => summary.counts,
      );
    const apply = (set: StandardsSet, changed: string[], name: string) =>
      measure(name, async () => {
        const outcomes: EnvironmentApplyOutcome[] = await activities.applyUserGroupStandards({
          setHash: set.hash,
          environmentIds: changed,
          enforceOnly: false,
        });
        const batches: string[][] = [];
        for (let i = 0; i < changed.length; i += APPLY_BATCH) batches.push(changed.slice(i, i + APPLY_BATCH));
        const lanes = Math.floor(DEFAULT_APPLY_CONCURRENCY / APPLY_BATCH);
        for (const batch of await mapWithConcurrency(batches, lanes, (environmentIds) =>
          activities.applyStandards({
            setHash: set.hash,
            environmentIds,
            enforceOnly: false,
            concurrency: APPLY_BATCH,
          }),
        ))
          outcomes.push(...batch);
        return outcomes;
      });

    const first = loadStandards(standardsFolder(dir, 'Standard zone'));
    const firstPlan = await plan(first, 'first plan (everything to create)');
    const maxReadsFirst = Math.max(...firstPlan.byEnvironment.values());
    const firstApply = await apply(first, firstPlan.result.changedEnvironments, 'apply');
    const attention = firstApply.result.filter((o) => o.outcome === 'needs-attention');
    if (attention.length > 0)
      throw new Error(`apply left ${attention.length} environment(s) needing attention: ${attention[0]!.reason}`);
    const quiet = await plan(first, 'plan right after the apply (must be empty)');
    if (quiet.result.counts.create + quiet.result.counts.update + quiet.result.counts.delete > 0) {
      throw new Error(`noise: a plan right after the apply found changes ${JSON.stringify(quiet.result.counts)}`);
    }
    const changed = loadStandards(standardsFolder(dir, 'Standard zone, second edition'));
    const changedPlan = await plan(changed, 'plan after one standard changed');
    const secondApply = await apply(changed, changedPlan.result.changedEnvironments, 'apply of that change');
    const writesPerEnvironment = new Map<string, number>();
    for (const o of secondApply.result) {
      writesPerEnvironment.set(
        o.environmentId,
        (writesPerEnvironment.get(o.environmentId) ?? 0) + o.created + o.updated + o.deleted,
      );
    }
    const memory = process.memoryUsage();
    const applyStep = steps[1]!;
    const waitSeconds =
      (firstPlan.result.changedEnvironments.length * 3 * (options.latencyMs / 1000)) / DEFAULT_APPLY_CONCURRENCY;
    return {
      environments: ids.length,
      standards: first.standards.length,
      schemas: new Set(first.standards.flatMap((s) => (s.kind === 'settings' ? [s.settings.schemaId] : []))).size,
      latency: `${options.latencyMs} ms ± ${options.latencyJitterMs} ms, ${options.capacityPerEnvironment} concurrent per environment`,
      steps,
      maxReadsPerEnvironmentPerPlan: maxReadsFirst,
      maxWritesPerEnvironmentAfterOneChange: Math.max(0, ...writesPerEnvironment.values()),
      memory: { rssMiB: memory.rss / 2 ** 20, heapUsedMiB: memory.heapUsed / 2 ** 20 },
      binding:
        `the apply would wait ${waitSeconds.toFixed(1)} s on Dynatrace (three calls per environment one after another, ` +
        `${DEFAULT_APPLY_CONCURRENCY} environments at once) and took ${applyStep.seconds.toFixed(1)} s with ` +
        `${applyStep.cpuSeconds.toFixed(1)} s of CPU in the one process that runs the simulator, the activities and the ` +
        `embedded database: ${applyStep.cpuSeconds / applyStep.seconds > 0.7 ? 'CPU binds, not Dynatrace' : 'waiting binds (Dynatrace latency and caps), not CPU'}`,
    };
  } finally {
    await database.close().catch(() => undefined);
    await simulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
