import type { StormLoad, StormResult } from '../storm/webhook-storm.js';
import { lineChart } from './svg-chart.js';

/** The closed-loop run's chart is storm-latency.svg, the open loop's storm-open-latency.svg. */
const chartFile = (r: StormResult) =>
  r.settings.load.kind === 'open' ? 'storm-open-latency.svg' : 'storm-latency.svg';

export function stormCharts(r: StormResult): Record<string, string> {
  return {
    [chartFile(r)]: lineChart({
      title: `Webhook storm: ${r.totals.notifications} notifications`,
      xLabel: 'seconds',
      yLabel: 'latency (ms) / notifications per second',
      series: [
        { name: 'p99 latency (ms)', color: '#d62728', points: r.timeline.map((p) => ({ x: p.t, y: p.p99 })) },
        { name: 'p50 latency (ms)', color: '#ff7f0e', points: r.timeline.map((p) => ({ x: p.t, y: p.p50 })) },
        { name: 'answered per second', color: '#1f77b4', points: r.timeline.map((p) => ({ x: p.t, y: p.answered })) },
      ],
    }),
  };
}

const describeLoad = (load: StormLoad) =>
  load.kind === 'closed'
    ? `${load.connections} connections, each sending its next notification as soon as the last is answered`
    : `${load.ratePerSecond} notifications/s whatever the answers${load.maxInFlight ? ` (at most ${load.maxInFlight} in flight)` : ''}`;

export function stormMarkdown(r: StormResult): string[] {
  const e = r.exactlyOnce;
  const rate = r.throughput.notificationsPerSecond;
  const p99 = r.latencyMs.p99;
  const load = r.settings.load;
  return [
    `## Webhook storm, ${load.kind === 'open' ? 'open loop' : 'closed loop (saturation)'}: ${r.totals.notifications} notifications`,
    '',
    `Mix: ${Object.entries(r.totals.byCategory)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}; load: ${describeLoad(r.settings.load)}; Temporal: ${r.settings.temporal}; worker: ${r.settings.worker}.`,
    '',
    '| | |',
    '| --- | ---: |',
    `| notifications answered per second | ${rate.toFixed(0)} |`,
    `| valid notifications accepted per second | ${r.throughput.acceptedPerSecond.toFixed(0)} |`,
    `| latency p50 / p90 / p99 / max | ${r.latencyMs.p50} / ${r.latencyMs.p90} / ${p99} / ${r.latencyMs.max} ms |`,
    `| signal-with-start inside the receiver, p50 / p99 | ${r.receiverMs.signalWithStart.p50} / ${r.receiverMs.signalWithStart.p99} ms |`,
    `| workflows, signals expected / counted in their histories | ${e.workflowsFound}, ${e.signalsExpected} / ${e.signalsCounted} |`,
    `| lost / duplicated | ${e.lost} / ${e.duplicated} |`,
    `| statuses | ${Object.entries(r.statuses)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} |`,
    '',
    `![storm](${chartFile(r)})`,
    '',
    '| Target | Measured | |',
    '| --- | --- | --- |',
    `| nothing lost, nothing twice | ${e.lost} lost, ${e.duplicated} duplicated | ${e.ok ? 'met' : '**missed**'} |`,
    ...(load.kind === 'open'
      ? [
          `| a steady ${load.ratePerSecond}/s kept up with | ${rate.toFixed(0)}/s answered | ${rate >= 0.97 * load.ratePerSecond ? 'met' : '**missed**'} |`,
          `| p99 < 150 ms at ${load.ratePerSecond}/s | ${p99} ms | ${p99 < 150 ? 'met' : '**missed**'} |`,
        ]
      : [
          `| saturation throughput ≥ 300 notifications/s | ${rate.toFixed(0)}/s | ${rate >= 300 ? 'met' : '**missed**'} |`,
        ]),
  ];
}
