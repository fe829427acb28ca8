import type { MaintenanceBenchmarkResult, MaintenanceRunResult } from '../maintenance/maintenance-benchmark.js';

const n = (v: number, digits = 1) => v.toFixed(digits);
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The acceptance for maintenance of a large registry, each with the figure measured. */
export function maintenanceTargets(r: MaintenanceBenchmarkResult) {
  const [idle, rotation, revocation, settled] = r.runs;
  const t = r.perDueToken;
  const throttled = r.runs.reduce((sum, run) => sum + run.dynatrace.throttled429, 0);
  const minted = rotation?.dynatrace.tokensMinted ?? 0;
  const revoked = r.runs.reduce((sum, run) => sum + run.dynatrace.registryTokensRevoked, 0);
  return [
    {
      target: `nothing due: ${r.settings.environments} environments in under 60 s`,
      measured: idle ? `${n(idle.wallSeconds, 2)} s` : 'not run',
      ok: idle !== undefined && idle.wallSeconds < 60,
    },
    {
      target: 'nothing due: 0 Dynatrace calls',
      measured: idle ? `${idle.dynatrace.apiRequests} calls` : 'not run',
      ok: idle?.dynatrace.apiRequests === 0,
    },
    {
      target: `${r.settings.duePercent} % due: exactly one mint per due token`,
      measured:
        `${minted} mints for ${t.dueTokens} due tokens; ${t.rotatedOnce} replaced once, ` +
        `${t.rotatedMoreThanOnce} more than once, ${t.notRotated} not, ${t.rotationsOfOthers} others replaced`,
      ok:
        minted === t.dueTokens &&
        t.rotatedOnce === t.dueTokens &&
        t.rotationsOfOthers === 0 &&
        (revocation?.dynatrace.tokensMinted ?? 0) + (settled?.dynatrace.tokensMinted ?? 0) === 0,
    },
    {
      target: 'exactly one revoke per due token (after its grace)',
      measured:
        `${revoked} revokes for ${t.dueTokens} due tokens; ${t.revokedOnce} once, ${t.revokedMoreThanOnce} more ` +
        `than once, ${t.notRevoked} not, ${t.othersRevoked} current ones revoked, ${t.revokeNotFound} × 404; ` +
        `${t.revokedInRegistry} recorded revoked`,
      ok:
        revoked === t.dueTokens &&
        t.revokedOnce === t.dueTokens &&
        t.othersRevoked === 0 &&
        t.revokeNotFound === 0 &&
        t.revokedInRegistry === t.dueTokens,
    },
    {
      target: `the per-environment capacity (${r.settings.capacityPerEnvironment} at once, no queue) never answers 429`,
      measured:
        `${throttled} × 429; at most ${Math.max(...r.runs.map((x) => x.dynatrace.peakInFlight.perEnvironment))} ` +
        `requests at once to one environment, ${Math.max(...r.runs.map((x) => x.dynatrace.peakInFlight.clusterApi))} to the cluster API`,
      ok: throttled === 0,
    },
    {
      target: 'only due environments touched; Dynatrace and the registry agree afterwards',
      measured:
        `${t.notDueTouched} not-due environments called; ${t.environmentsOutOfStep} environments out of step; ` +
        `${t.tokenManagementTokensLeft} token-management tokens left; settled run ${settled?.dynatrace.apiRequests ?? '–'} calls`,
      ok:
        t.notDueTouched === 0 &&
        t.environmentsOutOfStep === 0 &&
        t.tokenManagementTokensLeft === 0 &&
        settled?.dynatrace.apiRequests === 0,
    },
  ];
}

const cpu = (run: MaintenanceRunResult) => {
  const share = (s: number | undefined) => (s === undefined ? '–' : `${Math.round((100 * s) / run.wallSeconds)} %`);
  const machine = run.machineBusyPercent === undefined ? '–' : `${Math.round(run.machineBusyPercent)} %`;
  return `${share(run.cpuSeconds.benchProcess)} / ${share(run.cpuSeconds.temporalServer)} / ${machine}`;
};

export function maintenanceMarkdown(r: MaintenanceBenchmarkResult): string[] {
  const s = r.settings;
  return [
    `## Token maintenance: ${s.environments} registered environments`,
    '',
    `Each environment has an installer-download and an automation token of ours (30 days left, scopes checked ` +
      `just now), seeded straight into the simulator and a fresh fleet database (${s.database}) in ` +
      `${n(r.seeding.seconds)} s (database ${n(r.seeding.databaseSeconds)} s, secret store ` +
      `${n(r.seeding.secretStoreSeconds)} s, simulator ${n(r.seeding.simulatorSeconds)} s). Worker: ${s.worker}; ` +
      `batch size ${s.batchSize}; revoke grace ${s.tokenPolicy.revokeGraceMs / 1000} s (so the revoking run need not ` +
      `wait); Dynatrace latency ${s.latencyMs} ms + up to ${s.latencyJitterMs} ms; capacity ` +
      `${s.capacityPerEnvironment} requests at once per environment and for the cluster API, no queue. ` +
      `Before the second run, the tokens of every ${Math.round(s.environments / Math.max(1, s.dueEnvironments))}th ` +
      `environment (${s.dueEnvironments}, ${s.dueTokens} tokens) are set to expire within the rotation margin.`,
    '',
    '| run | due | wall | API calls | mints / token-mgmt mints | revokes: due / token-mgmt | 429 | waiting on Dynatrace / database | CPU this process / Temporal / machine busy | binds |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.runs.map((run) => {
      const d = run.dynatrace;
      return (
        `| ${run.name} | ${run.report.environmentsDue} | ${n(run.wallSeconds, 2)} s | ${d.apiRequests} | ` +
        `${d.tokensMinted} / ${d.tokenManagementTokensMinted} | ${d.registryTokensRevoked} / ${d.tokenManagementTokensRevoked} | ` +
        `${d.throttled429} | ${n(run.waitingSeconds.dynatrace)} s / ${n(run.waitingSeconds.database)} s | ${cpu(run)} | ${run.binds} |`
      );
    }),
    '',
    `CPU of this process (worker, PGlite, simulator) and of the Temporal server in percent of one core; machine ` +
      `busy: all ${s.cores} cores, whoever used them. One maintenance run works through its pages one after the other, and one activity through ` +
      'its environments one after the other, so an environment never sees more than one request at once and the ' +
      'time of a run with work grows with (due environments × requests per environment × Dynatrace latency).',
    '',
    '| Target | Measured | |',
    '| --- | --- | --- |',
    ...maintenanceTargets(r).map((t) => `| ${t.target} | ${t.measured} | ${verdict(t.ok)} |`),
  ];
}
