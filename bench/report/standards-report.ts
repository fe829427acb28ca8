import type { StandardsBenchmarkResult } from '../standards/standards-benchmark.js';

/** The standards section of the benchmark report. */
export function standardsMarkdown(r: StandardsBenchmarkResult): string[] {
  return [
    `## Standards: ${r.environments} environments × ${r.standards} standards`,
    '',
    `${r.standards} standards over ${r.schemas} settings schemas and one user group per customer; simulator latency ${r.latency}; ` +
      'four clusters of 50 requests in flight each; plan concurrency 200, apply in batches of 25, four at a time.',
    '',
    '| Step | Seconds | CPU seconds | Settings reads | Writes | Create | Update | Unchanged |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.steps.map(
      (s) =>
        `| ${s.name} | ${s.seconds.toFixed(1)} | ${s.cpuSeconds.toFixed(1)} | ${s.reads} | ${s.writes} | ${s.counts?.create ?? ''} | ` +
        `${s.counts?.update ?? ''} | ${s.counts?.unchanged ?? ''} |`,
    ),
    '',
    `At most **${r.maxReadsPerEnvironmentPerPlan}** read per environment in a plan (one listing of all its schemas); ` +
      `at most **${r.maxWritesPerEnvironmentAfterOneChange}** write per environment to apply one changed standard.`,
    '',
    `What binds: ${r.binding}. Memory of the process: RSS ${r.memory.rssMiB.toFixed(0)} MiB, heap used ` +
      `${r.memory.heapUsedMiB.toFixed(0)} MiB.`,
  ];
}
