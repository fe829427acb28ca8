import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client, type Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseCodecKeys, type CodecKeyring } from '../../src/codec/codec-keyring.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';
import { temporalCliPath } from '../../src/temporal/temporal-cli-path.js';
import { Secret } from '../../src/config/secret.js';
import { openFleetDatabase } from '../../src/database/open-fleet-database.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { processCpuSeconds } from '../harness/process-usage.js';
import { freePort } from '../../sandbox/free-port.js';
import { mulberry32 } from '../../sandbox/seeded-random.js';
import { startTemporalDevServer } from '../../sandbox/temporal-dev-server.js';
import {
  remediationPolicySchema,
  remediationWorkflowId,
  type ProblemNotification,
} from '../../src/shared/remediation.js';
import { DEFAULT_WEBHOOK_KEY_HEADER, webhookPath } from '../../src/shared/webhook.js';
import { autopilotClient, connectClient } from '../../src/temporal/connect.js';
import { ensureSearchAttributes } from '../../src/temporal/ensure-search-attributes.js';
import type { RateLimit } from '../../src/webhook/rate-limiter.js';
import { WebhookKeys } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { problemNotificationSignal } from '../../src/workflows/shared/remediation-signals.js';

export type StormCategory = 'valid' | 'duplicate' | 'test';

/**
 * How the notifications are fired. `closed`: that many keep-alive connections, each sending the next
 * notification as soon as the previous one is answered, so the rate settles at what the receiver and
 * Temporal sustain (the "highest rate" question). `open`: a fixed schedule at `ratePerSecond`, with
 * latency counted from the scheduled moment, so a slow answer cannot hide the requests queued behind
 * it (the "p99 at ≥ N per second" question).
 */
export type StormLoad =
  { kind: 'closed'; connections: number } | { kind: 'open'; ratePerSecond: number; maxInFlight?: number };

export type DevServerStorage = 'sqlite-file' | 'sqlite-wal' | 'memory';

export interface StormOptions {
  /** Default 10,000. */
  notifications?: number;
  /** Shares of the notifications; normalised. Default 60 % valid, 25 % duplicates, 15 % test. */
  mix?: Record<StormCategory, number>;
  /** Valid notifications spread uniformly over environments × hosts. Default 10 × 50. */
  environments?: number;
  hostsPerEnvironment?: number;
  /** Environment ids are `<prefix>-<random run id>-<n>`, so runs never share a workflow. Default `storm`. */
  environmentPrefix?: string;
  /** Default: closed loop with 32 connections. */
  load?: StormLoad;
  /** An existing server; without it a dev server of our own is started and stopped. */
  temporal?: { address: string; namespace: string };
  /**
   * Storage of our own dev server. `sqlite-file`: as `npm start` runs it (default); `sqlite-wal`: the
   * same file with SQLite's write-ahead log; `memory`: in-memory SQLite, as the test suite runs it.
   */
  devServerStorage?: DevServerStorage;
  /** The receiver's per-source limit; every request comes from 127.0.0.1, so the default is raised. */
  rateLimit?: RateLimit;
  /** Attempts per notification when the answer says "send it again" (429, 503) or the socket fails. */
  maxAttempts?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface StormResult {
  settings: {
    notifications: number;
    mix: Record<StormCategory, number>;
    environments: number;
    hostsPerEnvironment: number;
    load: StormLoad;
    receiverRateLimit: RateLimit;
    temporal: string;
    worker: string;
    machine: { cpus: number; loadAverageBefore: number[] };
  };
  totals: { notifications: number; byCategory: Record<StormCategory, number>; requests: number; retries: number };
  durationMs: number;
  throughput: {
    /** Notifications answered 2xx per second of the storm, whatever their category. */
    notificationsPerSecond: number;
    /** Valid notifications handed to their workflow (202 `accepted`) per second. */
    acceptedPerSecond: number;
    requestsPerSecond: number;
  };
  /** Per HTTP request as the sender saw it (open loop: from the scheduled moment). */
  latencyMs: LatencySummary & {
    byCategory: Record<StormCategory, LatencySummary>;
    /** Accepted valid notifications: those whose signal-with-start created the workflow, and the rest. */
    validByKind: { startedWorkflow: LatencySummary; signalledRunning: LatencySummary };
  };
  /** Inside the receiver: Fastify's request-to-response time, and the signal-with-start calls within it. */
  receiverMs: { handler: LatencySummary; signalWithStart: LatencySummary };
  statuses: Record<string, number>;
  answers: Record<string, number>;
  exactlyOnce: {
    ok: boolean;
    workflowsExpected: number;
    workflowsFound: number;
    /** Workflows of the run's environments in visibility beyond the expected ones. */
    extraWorkflows: number;
    validDistinct: number;
    signalsExpected: number;
    signalsCounted: number;
    lost: number;
    duplicated: number;
    unexpectedSignals: number;
    /** Valid notifications that never got a 202 `accepted` (after retries), or got more than one. */
    neverAccepted: number;
    acceptedMoreThanOnce: number;
    duplicatesAnsweredDuplicate: number;
    /** Originals answered `duplicate` because their repeat, sent while they were in flight, won. */
    originalsOvertaken: number;
    testsAnsweredTest: number;
    problems: string[];
  };
  resources: {
    /** Percent of one core over the storm; the machine has `settings.machine.cpus`. */
    benchProcessCpuPercent: number;
    temporalServerCpuPercent?: number;
    machineBusyPercent?: number;
    eventLoopDelayMs: { p50: number; p99: number; max: number };
    receiverLogLines: number;
  };
  histogram: { upToMs: number | null; count: number }[];
  timeline: { t: number; answered: number; accepted: number; p50: number; p99: number; failed: number }[];
  /** CPU per second of the storm, in percent of one core (the machine: of all its cores). */
  cpuTimeline: { t: number; bench: number; temporalServer?: number; machineBusy?: number }[];
  notes: string[];
}

const DEFAULT_MIX: Record<StormCategory, number> = { valid: 0.6, duplicate: 0.25, test: 0.15 };
const CATEGORIES: StormCategory[] = ['valid', 'duplicate', 'test'];
const HISTOGRAM_BOUNDS_MS = [
  1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 250, 300, 500, 750, 1000, 2000, 5000,
];
const TASK_QUEUE_PREFIX = 'webhook-storm';

interface ValidNotification {
  id: number;
  environmentId: string;
  hostEntityId: string;
  pid: string;
  body: Buffer;
  acceptedAnswers: number;
  /** Latency of the request that got the `accepted`. */
  acceptedMs?: number;
}

interface Outcome {
  category: StormCategory;
  status: number;
  answer: string;
  startedAt: number;
  ms: number;
}

function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  const sum = values.reduce((s, v) => s + v, 0);
  return {
    count: values.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sum / values.length),
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Category counts that add up to `total` exactly (largest remainder). */
function splitByMix(total: number, mix: Record<StormCategory, number>): Record<StormCategory, number> {
  const sum = CATEGORIES.reduce((s, c) => s + Math.max(0, mix[c]), 0);
  if (!(sum > 0) || !(mix.valid > 0)) throw new RangeError('the mix needs a positive share of valid notifications');
  const exact = CATEGORIES.map((c) => (Math.max(0, mix[c]) / sum) * total);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; counts.reduce((s, c) => s + c, 0) < total; k++) counts[order[k % 3]![1]]!++;
  return { valid: counts[0]!, duplicate: counts[1]!, test: counts[2]! };
}

/**
 * The order the categories are fired in: drawn without replacement in proportion to what is left,
 * except that a duplicate needs a valid notification before it to repeat.
 */
function planOrder(counts: Record<StormCategory, number>, random: () => number): StormCategory[] {
  const left = { ...counts };
  const order: StormCategory[] = [];
  let validSoFar = 0;
  while (order.length < counts.valid + counts.duplicate + counts.test) {
    const eligible = CATEGORIES.filter((c) => left[c] > 0 && (c !== 'duplicate' || validSoFar > 0));
    const weight = eligible.reduce((s, c) => s + left[c], 0);
    let r = random() * weight;
    const pick = eligible.find((c) => (r -= left[c]) < 0) ?? eligible[eligible.length - 1]!;
    left[pick]--;
    if (pick === 'valid') validSoFar++;
    order.push(pick);
  }
  return order;
}

const hostEntityId = (environment: number, host: number) =>
  `HOST-${(environment * 65_536 + host).toString(16).toUpperCase().padStart(16, '0')}`;

/** The custom payload onboarding configures (WEBHOOK_PAYLOAD_TEMPLATE), as a real environment fills it in. */
function problemBody(pid: string, displayId: string, host: { entity: string; name: string }): Buffer {
  return Buffer.from(
    JSON.stringify({
      State: 'OPEN',
      PID: pid,
      ProblemID: displayId,
      ProblemTitle: 'CPU saturation',
      ProblemImpact: 'INFRASTRUCTURE',
      ProblemSeverity: 'RESOURCE_CONTENTION',
      ProblemURL: `https://dynatrace.example.com/e/env/#problems/problemdetails;pid=${pid}`,
      Tags: '',
      ImpactedEntities: [{ type: 'HOST', name: host.name, entity: host.entity }],
      ProblemDetailsJSON: { id: pid, displayId, status: 'OPEN', severityLevel: 'RESOURCE_CONTENTION' },
    }),
  );
}

/** Dynatrace's "Send test notification": fixed dummy values, the same every time. */
const TEST_BODY = Buffer.from(
  JSON.stringify({
    State: 'OPEN',
    PID: '99999',
    ProblemID: '999',
    ProblemTitle: 'Dynatrace problem notification test run',
    ProblemImpact: 'INFRASTRUCTURE',
    ProblemSeverity: 'AVAILABILITY',
    ProblemURL: 'https://dynatrace.example.com',
    Tags: '',
    ImpactedEntities: [{ type: 'HOST', name: 'MyHost1', entity: 'HOST-XXXXXXXXXXXXX' }],
    ProblemDetailsJSON: { id: '99999' },
  }),
);

function post(
  agent: http.Agent,
  port: number,
  urlPath: string,
  key: string,
  body: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': body.length,
          [DEFAULT_WEBHOOK_KEY_HEADER]: key,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.setTimeout(30_000, () => request.destroy(new Error('no answer within 30 s')));
    request.end(body);
  });
}

const acceptedMsOf = (valids: ValidNotification[], which: (v: ValidNotification) => boolean) =>
  valids.flatMap((v) => (v.acceptedMs !== undefined && which(v) ? [v.acceptedMs] : []));

/** The `status` (or `error`) the receiver answered with. */
function answerOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { status?: unknown; error?: unknown };
    const answer = parsed.status ?? parsed.error;
    return typeof answer === 'string' ? answer : 'no-status';
  } catch {
    return 'not-json';
  }
}

/** Samples CPU every second, to line up slow seconds of the storm with who was busy then. */
class CpuSampler {
  readonly samples: StormResult['cpuTimeline'] = [];
  private readonly timer: NodeJS.Timeout;
  private last: { at: number; bench: NodeJS.CpuUsage; server?: number; machine?: { busy: number; total: number } };

  constructor(
    private readonly serverPid: number | undefined,
    private readonly t0: number,
  ) {
    this.last = this.read();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  private read() {
    const server = this.serverPid ? processCpuSeconds(this.serverPid, { withReapedChildren: true }) : undefined;
    const machine = machineJiffies();
    return {
      at: performance.now(),
      bench: process.cpuUsage(),
      ...(server !== undefined ? { server } : {}),
      ...(machine ? { machine } : {}),
    };
  }

  private sample(): void {
    const now = this.read();
    const seconds = (now.at - this.last.at) / 1000;
    // The last sample can come right after a regular one; a sliver of a second says nothing.
    if (seconds < 0.25) return;
    const bench = (now.bench.user + now.bench.system - this.last.bench.user - this.last.bench.system) / 1e6;
    const { server, machine } = this.last;
    this.samples.push({
      t: Math.round((now.at - this.t0) / 1000),
      bench: round((bench / seconds) * 100, 1),
      ...(server !== undefined && now.server !== undefined
        ? { temporalServer: round(((now.server - server) / seconds) * 100, 1) }
        : {}),
      ...(machine && now.machine && now.machine.total > machine.total
        ? { machineBusy: round(((now.machine.busy - machine.busy) / (now.machine.total - machine.total)) * 100, 1) }
        : {}),
    });
    this.last = now;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** Busy and total jiffies of the whole machine, to tell "we saturated it" from "something else did". */
function machineJiffies(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((s, v) => s + v, 0);
    return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/**
 * A burst of Dynatrace problem notifications against the real receiver (createWebhookServer) and a
 * real Temporal server, then a check in every workflow's history that each valid notification
 * arrived exactly once and that duplicates and test notifications added nothing. No worker runs:
 * signal-with-start writes the start and the signal into history whether or not anyone executes the
 * workflow, and a worker would only compete for the same two cores.
 */
export async function runWebhookStorm(options: StormOptions = {}): Promise<StormResult> {
  const log = options.log ?? (() => undefined);
  const total = options.notifications ?? 10_000;
  const mix = options.mix ?? DEFAULT_MIX;
  const environments = options.environments ?? 10;
  const hostsPerEnvironment = options.hostsPerEnvironment ?? 50;
  const load: StormLoad = options.load ?? { kind: 'closed', connections: 32 };
  // One sender address for everything: the limit would otherwise be the first thing measured.
  const rateLimit = options.rateLimit ?? { perSecond: 1_000_000, burst: 1_000_000 };
  const maxAttempts = options.maxAttempts ?? 5;
  const random = mulberry32(options.seed ?? 0x5eed);
  const runId = randomBytes(4).toString('hex');
  const environmentIds = Array.from(
    { length: environments },
    (_, e) => `${options.environmentPrefix ?? 'storm'}-${runId}-${e}`,
  );
  const counts = splitByMix(total, mix);
  const order = planOrder(counts, random);
  const notes: string[] = [];
  const loadAverageBefore = os.loadavg().map((l) => round(l));

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };

  try {
    let serverPid: number | undefined;
    let access = options.temporal;
    const storage = options.devServerStorage ?? 'sqlite-file';
    if (!access) {
      const own = await startOwnServer(storage, log);
      stoppers.push(() => own.stop());
      serverPid = own.pid;
      access = { address: own.address, namespace: 'default' };
    }
    const connection: Connection = await connectClient({ address: access.address, namespace: access.namespace });
    stoppers.push(() => connection.close());
    await ensureSearchAttributes(connection, access.namespace);
    const keys: CodecKeyring = parseCodecKeys(`bench:${randomBytes(32).toString('base64')}`, 'BENCH');
    const client: Client = autopilotClient(connection, access.namespace, keys);

    // Timing of the Temporal calls inside the receiver, to split its latency into ours and Temporal's.
    const signalWithStartMs: number[] = [];
    const workflowClient = client.workflow;
    const signalWithStart = workflowClient.signalWithStart.bind(workflowClient);
    workflowClient.signalWithStart = (async (...args: Parameters<typeof signalWithStart>) => {
      const started = performance.now();
      try {
        return await signalWithStart(...args);
      } finally {
        signalWithStartMs.push(performance.now() - started);
      }
    }) as typeof workflowClient.signalWithStart;

    const webhookKeys = new WebhookKeys({
      master: new Secret(randomBytes(24).toString('base64url')),
      mode: 'per-environment',
    });
    // The receiver asks the registry about every path's environment (through its cache), as in production.
    const registryDir = mkdtempSync(path.join(os.tmpdir(), 'storm-registry-'));
    stoppers.push(async () => rmSync(registryDir, { recursive: true, force: true }));
    const database = await openFleetDatabase({ embeddedDir: registryDir });
    stoppers.push(() => database.close());
    const registry = new EnvironmentRegistry(database.db);
    for (const id of environmentIds) {
      await registry.record({ id, kind: 'saas', apiUrl: `https://${id}.live.dynatrace.com`, source: 'registered' });
    }
    let receiverLogLines = 0;
    const { app } = createWebhookServer({
      client,
      taskQueue: `${TASK_QUEUE_PREFIX}-${runId}`,
      keys: webhookKeys,
      environments: registry,
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 64 * 1024,
      // Formatted like the service's INFO log, so its cost is in the figures, but not printed.
      logger: createJsonLogger('INFO', () => void receiverLogLines++),
      rateLimit,
    });
    const handlerMs: number[] = [];
    app.addHook('onResponse', async (request, reply) => {
      if (request.url.startsWith('/webhooks/')) handlerMs.push(reply.elapsedTime);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    stoppers.push(() => app.close());
    const port = (app.server.address() as net.AddressInfo).port;

    const sockets = load.kind === 'closed' ? load.connections : (load.maxInFlight ?? 256);
    const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, scheduling: 'fifo' });
    stoppers.push(async () => agent.destroy());

    // Bodies are built before the clock starts: the sender should cost the receiver's cores little.
    const valids = Array.from({ length: counts.valid }, (_, id): ValidNotification => {
      const e = Math.floor(random() * environments);
      const h = Math.floor(random() * hostsPerEnvironment);
      const pid = `-${7_000_000 + id}_1717000000000V2`;
      const entity = hostEntityId(e, h);
      return {
        id,
        environmentId: environmentIds[e]!,
        hostEntityId: entity,
        pid,
        body: problemBody(pid, `P-${24_000 + id}`, { entity, name: `vm-${e}-${h}` }),
        acceptedAnswers: 0,
      };
    });
    let validsSent = 0;
    const answeredValid: number[] = [];
    const outcomes: Outcome[] = [];
    let requests = 0;
    let retries = 0;
    let t0 = 0;

    /** A redelivery follows its first delivery, so it repeats one already answered when there is one. */
    const pickDuplicate = (): ValidNotification => {
      if (answeredValid.length === 0) return valids[Math.floor(random() * validsSent)]!;
      return valids[answeredValid[Math.floor(random() * answeredValid.length)]!]!;
    };

    const deliver = async (index: number, scheduledAt: number): Promise<void> => {
      const category = order[index]!;
      let target: { environmentId: string; body: Buffer; valid?: ValidNotification };
      if (category === 'valid') {
        const v = valids[validsSent++]!;
        target = { environmentId: v.environmentId, body: v.body, valid: v };
      } else if (category === 'duplicate') {
        const v = pickDuplicate();
        target = { environmentId: v.environmentId, body: v.body, valid: v };
      } else {
        target = { environmentId: environmentIds[Math.floor(random() * environments)]!, body: TEST_BODY };
      }
      const urlPath = webhookPath(target.environmentId);
      for (let attempt = 1; ; attempt++) {
        const startedAt = attempt === 1 ? scheduledAt : performance.now();
        requests++;
        let status = 0;
        let answer = 'network-error';
        try {
          const response = await post(agent, port, urlPath, webhookKeys.keyFor(target.environmentId), target.body);
          status = response.status;
          answer = answerOf(response.text);
        } catch (err) {
          answer = `network-error: ${(err as Error).message}`;
        }
        const ms = performance.now() - startedAt;
        outcomes.push({ category, status, answer, startedAt: startedAt - t0, ms });
        if (target.valid && status === 202 && answer === 'accepted') {
          target.valid.acceptedAnswers++;
          target.valid.acceptedMs = ms;
          if (category === 'valid') answeredValid.push(target.valid.id);
        }
        // What Dynatrace would do with "not acknowledged": deliver the same notification again.
        const again = status === 0 || status === 429 || status === 503;
        if (!again || attempt >= maxAttempts) return;
        retries++;
        await sleep(Math.min(1000, 50 * 2 ** (attempt - 1)));
      }
    };

    const loop = monitorEventLoopDelay({ resolution: 5 });
    const cpuBefore = process.cpuUsage();
    const serverCpuBefore = serverPid ? processCpuSeconds(serverPid, { withReapedChildren: true }) : undefined;
    const machineBefore = machineJiffies();
    log(
      `Storm: ${total} notifications (${counts.valid} valid, ${counts.duplicate} duplicates, ${counts.test} test) over ` +
        `${environments}×${hostsPerEnvironment} hosts, ${
          load.kind === 'closed'
            ? `closed loop, ${load.connections} connections`
            : `open loop, ${load.ratePerSecond}/s (≤ ${sockets} in flight)`
        }`,
    );
    loop.enable();
    t0 = performance.now();
    const cpu = new CpuSampler(serverPid, t0);
    const progress = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      log(`  ${elapsed.toFixed(0)} s: ${outcomes.length} answered (${(outcomes.length / elapsed).toFixed(0)}/s)`);
    }, 2000);
    try {
      if (load.kind === 'closed') {
        const indices = Array.from({ length: total }, (_, i) => i);
        await mapWithConcurrency(indices, load.connections, (i) => deliver(i, performance.now()));
      } else {
        await openLoop(total, load.ratePerSecond, sockets, t0, deliver);
      }
    } finally {
      clearInterval(progress);
      cpu.stop();
      loop.disable();
    }
    const durationMs = performance.now() - t0;
    const benchCpu = process.cpuUsage(cpuBefore);
    const serverCpuAfter = serverPid ? processCpuSeconds(serverPid, { withReapedChildren: true }) : undefined;
    const machineAfter = machineJiffies();
    log(`  done in ${(durationMs / 1000).toFixed(1)} s; checking every workflow's history`);

    const expectedWorkflows = [...new Set(valids.map((v) => remediationWorkflowId(v.environmentId, v.hostEntityId)))];
    let verified: Awaited<ReturnType<typeof verifyExactlyOnce>>;
    try {
      verified = await verifyExactlyOnce(client, keys, valids, outcomes, counts, environmentIds);
    } finally {
      // Without a worker they would wait forever, even when the check itself failed.
      log(`  terminating ${expectedWorkflows.length} workflows`);
      await mapWithConcurrency(expectedWorkflows, 16, async (workflowId) => {
        try {
          await client.workflow.getHandle(workflowId).terminate('webhook storm benchmark finished');
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      });
    }
    const { exactlyOnce, startingPids } = verified;
    log(`  ${exactlyOnce.ok ? 'exactly once: ok' : `exactly once: FAILED (${exactlyOnce.problems.join('; ')})`}`);

    const twoXx = outcomes.filter((o) => o.status >= 200 && o.status < 300).length;
    const accepted = outcomes.filter((o) => o.status === 202 && o.answer === 'accepted').length;
    const seconds = durationMs / 1000;
    const histogram: StormResult['histogram'] = [...HISTOGRAM_BOUNDS_MS, null].map((upToMs) => ({ upToMs, count: 0 }));
    for (const o of outcomes) {
      const bucket = HISTOGRAM_BOUNDS_MS.findIndex((b) => o.ms <= b);
      histogram[bucket < 0 ? HISTOGRAM_BOUNDS_MS.length : bucket]!.count++;
    }
    const tally = (key: (o: Outcome) => string) => {
      const map: Record<string, number> = {};
      for (const o of outcomes) map[key(o)] = (map[key(o)] ?? 0) + 1;
      return map;
    };

    if (load.kind === 'closed') {
      notes.push(
        `Closed loop: ${load.connections} connections each send the next notification when the previous one is answered, so the rate is what the receiver and Temporal sustain; latency then includes the queueing of ${load.connections} outstanding requests.`,
      );
    } else {
      notes.push(
        `Open loop at ${load.ratePerSecond}/s: latency is counted from each request's scheduled moment, so falling behind shows as latency.`,
      );
    }
    notes.push(
      `The receiver's per-source rate limit was raised to ${rateLimit.perSecond}/s (burst ${rateLimit.burst}): every request comes from 127.0.0.1. Key check, size limits and payload validation are unchanged.`,
      'No worker runs: signal-with-start writes the start and the signal into history whether or not a worker executes the workflow; the workflows are terminated afterwards.',
      'Load generator, receiver and Temporal client share one Node process; the Temporal server is a separate process on the same cores.',
    );

    return {
      settings: {
        notifications: total,
        mix: { ...mix },
        environments,
        hostsPerEnvironment,
        load,
        receiverRateLimit: rateLimit,
        temporal: options.temporal
          ? `existing server ${access.address}, namespace ${access.namespace}`
          : `own dev server ${access.address} (${STORAGE_LABEL[storage]})`,
        worker: 'none (signal-with-start lands in history without one)',
        machine: { cpus: os.cpus().length, loadAverageBefore },
      },
      totals: { notifications: total, byCategory: counts, requests, retries },
      durationMs: round(durationMs, 1),
      throughput: {
        notificationsPerSecond: round(twoXx / seconds, 1),
        acceptedPerSecond: round(accepted / seconds, 1),
        requestsPerSecond: round(requests / seconds, 1),
      },
      latencyMs: {
        ...summarize(outcomes.map((o) => o.ms)),
        byCategory: Object.fromEntries(
          CATEGORIES.map((c) => [c, summarize(outcomes.filter((o) => o.category === c).map((o) => o.ms))]),
        ) as Record<StormCategory, LatencySummary>,
        validByKind: {
          startedWorkflow: summarize(acceptedMsOf(valids, (v) => startingPids.has(v.pid))),
          signalledRunning: summarize(acceptedMsOf(valids, (v) => !startingPids.has(v.pid))),
        },
      },
      receiverMs: { handler: summarize(handlerMs), signalWithStart: summarize(signalWithStartMs) },
      statuses: tally((o) => String(o.status)),
      answers: tally((o) => o.answer),
      exactlyOnce,
      resources: {
        benchProcessCpuPercent: round(((benchCpu.user + benchCpu.system) / 1000 / durationMs) * 100, 1),
        ...(serverCpuBefore !== undefined && serverCpuAfter !== undefined
          ? { temporalServerCpuPercent: round(((serverCpuAfter - serverCpuBefore) / seconds) * 100, 1) }
          : {}),
        ...(machineBefore && machineAfter
          ? {
              machineBusyPercent: round(
                ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100,
                1,
              ),
            }
          : {}),
        eventLoopDelayMs: {
          p50: round(loop.percentile(50) / 1e6),
          p99: round(loop.percentile(99) / 1e6),
          max: round(loop.max / 1e6),
        },
        receiverLogLines,
      },
      histogram,
      timeline: timeline(outcomes),
      cpuTimeline: cpu.samples,
      notes,
    };
  } finally {
    await stopAll();
  }
}

const STORAGE_LABEL: Record<DevServerStorage, string> = {
  'sqlite-file': 'SQLite file, as npm start runs it',
  'sqlite-wal': 'SQLite file with journal_mode=wal',
  memory: 'in-memory SQLite, as the test suite runs it',
};

/** A dev server of the run's own, in a temp dir that goes with it. */
async function startOwnServer(
  storage: DevServerStorage,
  log: (line: string) => void,
): Promise<{ address: string; pid: number | undefined; stop(): Promise<void> }> {
  const [port, uiPort] = [await freePort(), await freePort()];
  if (storage === 'memory') {
    log('Starting a Temporal dev server (in-memory SQLite)');
    // startTemporalDevServer always gives the server a file; the SDK's launcher leaves it in memory.
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        ip: '127.0.0.1',
        port,
        namespace: 'default',
      },
    });
    return { address: `127.0.0.1:${port}`, pid: childPidRunning('start-dev'), stop: () => env.teardown() };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-storm-'));
  log(`Starting a Temporal dev server (${STORAGE_LABEL[storage]}) in ${dir}`);
  try {
    const server = await startTemporalDevServer({
      cliPath: temporalCliPath(),
      dataDir: dir,
      port,
      uiPort,
      namespace: 'default',
      startTimeoutMs: 60_000,
      ...(storage === 'sqlite-wal' ? { extraArgs: ['--sqlite-pragma', 'journal_mode=wal'] } : {}),
    });
    return {
      address: server.address,
      pid: server.pid,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A child of this process whose command line contains `marker` (Linux), for its CPU time. */
function childPidRunning(marker: string): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) {
          return Number(entry);
        }
      } catch {
        // Gone between listing and reading.
      }
    }
  } catch {
    // No /proc: no server CPU figure.
  }
  return undefined;
}

/** Fires request i at t0 + i/rate; past `maxInFlight` the schedule waits, and the wait counts as latency. */
function openLoop(
  total: number,
  ratePerSecond: number,
  maxInFlight: number,
  t0: number,
  deliver: (index: number, scheduledAt: number) => Promise<void>,
): Promise<void> {
  const interval = 1000 / ratePerSecond;
  return new Promise((resolve) => {
    let next = 0;
    let inFlight = 0;
    let done = 0;
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      clearTimeout(timer);
      timer = undefined;
      const now = performance.now();
      while (next < total && inFlight < maxInFlight && t0 + next * interval <= now) {
        const index = next++;
        inFlight++;
        void deliver(index, t0 + index * interval).finally(() => {
          inFlight--;
          if (++done === total) resolve();
          else pump();
        });
      }
      if (next < total && inFlight < maxInFlight) {
        timer = setTimeout(pump, Math.max(0, t0 + next * interval - performance.now()));
      }
    };
    pump();
  });
}

function timeline(outcomes: Outcome[]): StormResult['timeline'] {
  const seconds = new Map<number, Outcome[]>();
  for (const o of outcomes) {
    const t = Math.floor((o.startedAt + o.ms) / 1000);
    const list = seconds.get(t) ?? [];
    list.push(o);
    seconds.set(t, list);
  }
  return [...seconds.keys()]
    .sort((a, b) => a - b)
    .map((t) => {
      const list = seconds.get(t)!;
      const latency = summarize(list.map((o) => o.ms));
      return {
        t,
        answered: list.length,
        accepted: list.filter((o) => o.answer === 'accepted').length,
        p50: latency.p50,
        p99: latency.p99,
        failed: list.filter((o) => o.status < 200 || o.status >= 300).length,
      };
    });
}

/**
 * Reads every expected workflow's history and matches its signals, decrypted, against the problem
 * ids sent for that host: each exactly once, nothing else. The answers are checked too: one
 * `accepted` per valid notification, `duplicate` for every repeat, the test answer for every test.
 */
async function verifyExactlyOnce(
  client: Client,
  keys: CodecKeyring,
  valids: ValidNotification[],
  outcomes: Outcome[],
  counts: Record<StormCategory, number>,
  environmentIds: string[],
): Promise<{ exactlyOnce: StormResult['exactlyOnce']; startingPids: Set<string> }> {
  const codec = new EncryptionCodec(keys);
  const expected = new Map<string, Set<string>>();
  for (const v of valids) {
    const workflowId = remediationWorkflowId(v.environmentId, v.hostEntityId);
    const set = expected.get(workflowId) ?? new Set<string>();
    set.add(v.pid);
    expected.set(workflowId, set);
  }
  const problems: string[] = [];
  const note = (problem: string) => {
    if (problems.length < 20) problems.push(problem);
  };
  let workflowsFound = 0;
  let signalsCounted = 0;
  let lost = 0;
  let duplicated = 0;
  let unexpectedSignals = 0;
  const startingPids = new Set<string>();

  await mapWithConcurrency([...expected], 8, async ([workflowId, pids]) => {
    let events;
    try {
      events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      lost += pids.size;
      note(`${workflowId}: no such workflow (${pids.size} notifications lost)`);
      return;
    }
    workflowsFound++;
    const seen = new Map<string, number>();
    let first = true;
    for (const event of events) {
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (!signaled) continue;
      signalsCounted++;
      if (signaled.signalName !== problemNotificationSignal.name) {
        unexpectedSignals++;
        note(`${workflowId}: unexpected signal ${signaled.signalName ?? '(none)'}`);
        continue;
      }
      const [payload] = await codec.decode(signaled.input?.payloads ?? []);
      const message = payload ? defaultPayloadConverter.fromPayload<ProblemNotification>(payload) : undefined;
      const pid = message?.problemId ?? '(none)';
      seen.set(pid, (seen.get(pid) ?? 0) + 1);
      // The first signal came with the start: its request paid for creating the workflow.
      if (first) startingPids.add(pid);
      first = false;
    }
    for (const pid of pids) {
      const n = seen.get(pid) ?? 0;
      if (n === 0) {
        lost++;
        note(`${workflowId}: ${pid} never arrived`);
      } else if (n > 1) {
        duplicated += n - 1;
        note(`${workflowId}: ${pid} arrived ${n} times`);
      }
    }
    for (const [pid, n] of seen) {
      if (!pids.has(pid)) {
        unexpectedSignals += n;
        note(`${workflowId}: signal for ${pid}, which was not sent to this host`);
      }
    }
  });

  // Test notifications (or anything else) must not have started workflows of their own.
  const query = `DtEnvironmentId IN (${environmentIds.map((e) => `'${e}'`).join(', ')})`;
  let inVisibility = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    inVisibility = (await client.workflow.count(query)).count;
    if (inVisibility >= expected.size) break;
    // Visibility is written after the history; give it a moment to catch up.
    await sleep(500);
  }
  const extraWorkflows = Math.max(0, inVisibility - expected.size);
  if (extraWorkflows > 0)
    note(`${extraWorkflows} workflows in the run's environments that no valid notification explains`);

  const neverAccepted = valids.filter((v) => v.acceptedAnswers === 0).length;
  const acceptedMoreThanOnce = valids.filter((v) => v.acceptedAnswers > 1).length;
  if (neverAccepted > 0) note(`${neverAccepted} valid notifications never answered 202 accepted`);
  if (acceptedMoreThanOnce > 0) note(`${acceptedMoreThanOnce} valid notifications accepted more than once`);
  const final = outcomes.filter((o) => o.status !== 0 && o.status !== 429 && o.status !== 503);
  const duplicatesAnsweredDuplicate = final.filter(
    (o) => o.category === 'duplicate' && o.status === 202 && o.answer === 'duplicate',
  ).length;
  const testsAnsweredTest = final.filter(
    (o) => o.category === 'test' && o.status === 200 && o.answer === 'test-notification-received',
  ).length;
  // A repeat that overtakes its original gets the `accepted` and the original the `duplicate`.
  const validAnsweredDuplicate = final.filter((o) => o.category === 'valid' && o.answer === 'duplicate').length;
  if (duplicatesAnsweredDuplicate + validAnsweredDuplicate !== counts.duplicate) {
    note(
      `${counts.duplicate} duplicates sent, ${duplicatesAnsweredDuplicate + validAnsweredDuplicate} answered duplicate`,
    );
  }
  if (testsAnsweredTest !== counts.test)
    note(`${counts.test} test notifications sent, ${testsAnsweredTest} answered as such`);

  const signalsExpected = valids.length;
  const exactlyOnce = {
    ok: problems.length === 0 && signalsCounted === signalsExpected,
    workflowsExpected: expected.size,
    workflowsFound,
    extraWorkflows,
    validDistinct: valids.length,
    signalsExpected,
    signalsCounted,
    lost,
    duplicated,
    unexpectedSignals,
    neverAccepted,
    acceptedMoreThanOnce,
    duplicatesAnsweredDuplicate,
    originalsOvertaken: validAnsweredDuplicate,
    testsAnsweredTest,
    problems,
  };
  return { exactlyOnce, startingPids };
}
