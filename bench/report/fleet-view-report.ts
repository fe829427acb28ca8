import type { FleetViewBenchmarkResult } from '../fleet-view/fleet-view-benchmark.js';

/** The fleet view section of the benchmark report. */
export function fleetViewMarkdown(r: FleetViewBenchmarkResult): string[] {
  const d = r.database;
  return [
    `## Fleet view: ${r.environments} environments`,
    '',
    `Simulator latency ${r.latency}; four clusters of 50 requests in flight each; scan concurrency 200.`,
    '',
    '| Scan | Seconds | API requests | Changes written | Unreadable | Host censuses |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.scans.map(
      (s) =>
        `| ${s.name} | ${s.seconds.toFixed(1)} | ${s.apiRequests} | ${s.changes} | ${s.failed} | ${s.hostCensuses} |`,
    ),
    '',
    ...(r.page
      ? [
          `Status page: first render **${r.page.firstRenderMs.toFixed(0)} ms** in Chromium (1920×1080) with ${r.environments} cells; ` +
            `the status JSON is ${(r.page.statusBytes / 1024).toFixed(0)} KiB, built in ${r.page.statusBuildMs.toFixed(0)} ms.`,
        ]
      : ['Status page: not measured (no Chromium).']),
    '',
    `Fleet database growth per simulated day: **${d.growthMiBPerDay.toFixed(1)} MiB** at ${d.problemsPerEnvironmentDay} problems ` +
      `per environment and day (${d.problemsPerDay} problems, ${d.changesPerDay} changes), ${d.scansPerDay} scans and ` +
      `${d.censusChangesPerDay} census changes.`,
    '',
    `Memory of the process that scanned and served (worker and fleet server in one here): RSS ${r.memory.rssMiB.toFixed(0)} MiB, ` +
      `heap used ${r.memory.heapUsedMiB.toFixed(0)} MiB.`,
  ];
}
