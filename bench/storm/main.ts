import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/config/config.js';
import {
  runWebhookStorm,
  type DevServerStorage,
  type LatencySummary,
  type StormLoad,
  type StormResult,
} from './webhook-storm.js';

const { values } = parseArgs({
  options: {
    notifications: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '32' },
    /** Open loop at this rate instead of the closed loop. */
    rate: { type: 'string' },
    'max-in-flight': { type: 'string', default: '256' },
    environments: { type: 'string', default: '10' },
    hosts: { type: 'string', default: '50' },
    /** An existing Temporal frontend (host:port) instead of a dev server of our own. */
    'temporal-address': { type: 'string' },
    'temporal-namespace': { type: 'string', default: 'default' },
    /** Our own dev server's storage: sqlite-file (as npm start), sqlite-wal, memory (as the tests). */
    storage: { type: 'string', default: 'sqlite-file' },
    out: { type: 'string', default: path.join(projectRoot, 'bench', 'results', 'storm.json') },
  },
});

const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, not ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
};

const storages: DevServerStorage[] = ['sqlite-file', 'sqlite-wal', 'memory'];
if (!storages.includes(values.storage as DevServerStorage)) {
  console.error(`--storage must be one of ${storages.join(', ')}`);
  process.exit(2);
}

const load: StormLoad = values.rate
  ? {
      kind: 'open',
      ratePerSecond: positive('rate', values.rate),
      maxInFlight: positive('max-in-flight', values['max-in-flight']),
    }
  : { kind: 'closed', connections: positive('connections', values.connections) };

// A dev server of ours runs in its own process group; exiting through 'exit' lets it be killed too.
process.once('SIGINT', () => process.exit(130));

const result = await runWebhookStorm({
  notifications: positive('notifications', values.notifications),
  environments: positive('environments', values.environments),
  hostsPerEnvironment: positive('hosts', values.hosts),
  load,
  ...(values['temporal-address']
    ? { temporal: { address: values['temporal-address'], namespace: values['temporal-namespace'] } }
    : { devServerStorage: values.storage as DevServerStorage }),
  log: (line) => console.log(line),
});

mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
console.log(summary(result));
console.log(`\nWritten to ${path.relative(process.cwd(), values.out)}`);
process.exitCode = result.exactlyOnce.ok ? 0 : 1;

/** Every 5 s: rate and p99, next to who had the CPU (percent of one core; machine: of all cores). */
function timelineTable(r: StormResult): string[] {
  const step = 5;
  const rows = ['  timeline     from s   answered/s  worst p99   bench %   server %   machine %'];
  const last = r.timeline.at(-1)?.t ?? 0;
  for (let from = 0; from <= last; from += step) {
    const seconds = r.timeline.filter((s) => s.t >= from && s.t < from + step);
    const cpu = r.cpuTimeline.filter((s) => s.t > from && s.t <= from + step);
    const mean = (values: (number | undefined)[]) => {
      const known = values.filter((v): v is number => v !== undefined);
      return known.length ? (known.reduce((a, b) => a + b, 0) / known.length).toFixed(0) : '?';
    };
    rows.push(
      `               ${String(from).padStart(6)}` +
        `${(seconds.reduce((a, s) => a + s.answered, 0) / Math.max(1, seconds.length)).toFixed(0).padStart(13)}` +
        `${Math.max(0, ...seconds.map((s) => s.p99))
          .toFixed(0)
          .padStart(11)}` +
        `${mean(cpu.map((s) => s.bench)).padStart(10)}` +
        `${mean(cpu.map((s) => s.temporalServer)).padStart(11)}` +
        `${mean(cpu.map((s) => s.machineBusy)).padStart(12)}`,
    );
  }
  return rows;
}

function summary(r: StormResult): string {
  const ms = (l: LatencySummary) => `p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms`;
  const e = r.exactlyOnce;
  const c = r.totals.byCategory;
  const target = r.latencyMs.p99 < 250 && r.throughput.notificationsPerSecond >= 300 && e.ok;
  return [
    '',
    'Webhook storm',
    `  sent         ${r.totals.notifications} notifications: ${c.valid} valid, ${c.duplicate} duplicates, ${c.test} test` +
      ` (${r.totals.requests} requests, ${r.totals.retries} retries)`,
    `  load         ${r.settings.load.kind === 'closed' ? `closed loop, ${r.settings.load.connections} connections` : `open loop, ${r.settings.load.ratePerSecond}/s`}` +
      `; ${r.settings.temporal}; worker: ${r.settings.worker}`,
    `  duration     ${(r.durationMs / 1000).toFixed(1)} s`,
    `  rate         ${r.throughput.notificationsPerSecond} notifications/s answered 2xx, ${r.throughput.acceptedPerSecond} signals/s accepted`,
    `  latency      ${ms(r.latencyMs)}`,
    ...(['valid', 'duplicate', 'test'] as const).map((k) => `    ${k.padEnd(10)} ${ms(r.latencyMs.byCategory[k])}`),
    `    started a workflow  ${ms(r.latencyMs.validByKind.startedWorkflow)} (${r.latencyMs.validByKind.startedWorkflow.count})`,
    `    signalled a running ${ms(r.latencyMs.validByKind.signalledRunning)} (${r.latencyMs.validByKind.signalledRunning.count})`,
    `  receiver     handler ${ms(r.receiverMs.handler)}`,
    `               signal-with-start ${ms(r.receiverMs.signalWithStart)}`,
    `  statuses     ${Object.entries(r.statuses)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
    `  exactly once ${e.ok ? 'yes' : 'NO'}: ${e.signalsCounted}/${e.signalsExpected} signals in ${e.workflowsFound}/${e.workflowsExpected} workflows,` +
      ` lost ${e.lost}, duplicated ${e.duplicated}, unexpected ${e.unexpectedSignals}, extra workflows ${e.extraWorkflows}`,
    `               duplicates answered "duplicate": ${e.duplicatesAnsweredDuplicate}/${c.duplicate}` +
      (e.originalsOvertaken ? ` (+${e.originalsOvertaken} originals overtaken by their repeat)` : '') +
      `, tests answered as tests: ${e.testsAnsweredTest}/${c.test}`,
    ...e.problems.map((p) => `    ! ${p}`),
    `  cpu          bench process ${r.resources.benchProcessCpuPercent} %, Temporal server ${r.resources.temporalServerCpuPercent ?? '?'} %,` +
      ` machine busy ${r.resources.machineBusyPercent ?? '?'} % of ${r.settings.machine.cpus} cores; event-loop delay p99 ${r.resources.eventLoopDelayMs.p99} ms`,
    ...timelineTable(r),
    `  target       ≥ 300/s with p99 < 250 ms and nothing lost: ${target ? 'met' : 'MISSED'}`,
  ].join('\n');
}
