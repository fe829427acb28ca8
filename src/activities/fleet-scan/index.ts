import { heartbeat } from '@temporalio/activity';
import { collect } from '../../dynatrace/pagination.js';
import type { Problem } from '../../dynatrace/problems-api.js';
import { mapWithConcurrency } from '../../concurrency/map-with-concurrency.js';
import type { EnvironmentProblemScan, FleetHistory, HostCensus } from '../../fleet/fleet-history.js';
import { problemChanges, type ScannedProblem } from '../../fleet/problem-changes.js';
import type { FleetScanInput, FleetScanReport } from '../../shared/fleet-scan.js';
import type { DynatraceAccess } from '../dynatrace-access.js';

export interface FleetScanDeps {
  dynatrace: DynatraceAccess;
  fleetHistory: FleetHistory;
}

/** Problems that closed in a gap this long are still seen closed; beyond it they are closed when missed. */
const MAX_LOOKBACK_MS = 72 * 3_600_000;
const MIN_LOOKBACK_MS = 2 * 3_600_000;
const WRITE_BATCH = 250;

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

function scanned(problem: Problem): ScannedProblem {
  return {
    problemId: problem.problemId,
    displayId: problem.displayId,
    title: problem.title,
    status: problem.status,
    severity: problem.severityLevel,
    impact: problem.impactLevel,
    affectedEntities: problem.affectedEntities.length,
    startTime: new Date(problem.startTime),
    ...(problem.endTime > 0 ? { endTime: new Date(problem.endTime) } : {}),
  };
}

export function createFleetScanActivities(deps: FleetScanDeps) {
  const { registry, environments } = deps.dynatrace;
  const history = deps.fleetHistory;

  /**
   * One scan of the whole registry: each environment's problems in one listing (open ones, and
   * those that closed since its last good scan), the host census of the environments whose turn it
   * is, changes written in batches, then fleet incidents and the retention. One environment that
   * cannot be read is a failure in the report and in its scan record; the rest go on.
   */
  async function scanFleet(input: FleetScanInput): Promise<FleetScanReport> {
    const startedAt = new Date();
    const fleet = await registry.list();
    environments.remember(fleet);
    const scans = await history.environmentScans();
    const known = await history.knownProblems(new Date(startedAt.getTime() - MAX_LOOKBACK_MS));
    const failures: { environmentId: string; error: string }[] = [];
    let pending: EnvironmentProblemScan[] = [];
    let changes = 0;
    let done = 0;
    const flush = async () => {
      const batch = pending;
      pending = [];
      changes += await history.recordProblemScans(batch);
    };

    await mapWithConcurrency(fleet, input.concurrency, async (environment) => {
      const now = new Date();
      const lastOk = scans.get(environment.id)?.problemsOkAt?.getTime();
      const from = Math.max(
        now.getTime() - MAX_LOOKBACK_MS,
        Math.min(now.getTime() - MIN_LOOKBACK_MS, (lastOk ?? 0) - 60_000),
      );
      let result: EnvironmentProblemScan;
      try {
        const problems = await environments.withApi(environment.id, 'automation', ({ problems }) =>
          collect(problems.list({ from: String(from), pageSize: 500 })),
        );
        result = {
          environmentId: environment.id,
          at: now,
          changes: problemChanges(
            known.open.get(environment.id) ?? [],
            known.closed.get(environment.id) ?? new Set(),
            problems.map(scanned),
            now,
          ),
        };
      } catch (err) {
        result = { environmentId: environment.id, at: now, changes: [], error: reason(err) };
        failures.push({ environmentId: environment.id, error: result.error! });
      }
      pending.push(result);
      done++;
      if (pending.length >= WRITE_BATCH) await flush();
      if (done % 100 === 0) heartbeat({ scanned: done, of: fleet.length });
    });
    await flush();

    const hostCensuses = await takeHostCensuses(
      input,
      fleet.map((e) => e.id),
    );
    const finishedAt = new Date();
    const incidents = await history.recordIncidents(
      { environments: input.incident.environments, windowMs: input.incident.windowMinutes * 60_000 },
      finishedAt,
    );
    await history.prune(new Date(finishedAt.getTime() - input.retentionDays * 86_400_000));
    await history.recordScan({
      startedAt,
      finishedAt,
      environments: fleet.length,
      failed: failures.length,
      hostScans: hostCensuses,
      changes,
    });
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      environments: fleet.length,
      failed: failures.length,
      hostCensuses,
      changes,
      incidents,
      failures: failures.slice(0, 10),
    };
  }

  /**
   * Counts hosts and OneAgent versions in the environments whose census is oldest, as many per
   * scan as spreads the whole fleet evenly over the census interval.
   */
  async function takeHostCensuses(input: FleetScanInput, ids: string[]): Promise<number> {
    const now = new Date();
    const scansPerCensus = Math.max(1, Math.floor((input.hostCensusMinutes * 60) / input.intervalSeconds));
    const perScan = Math.ceil((ids.length / scansPerCensus) * 1.5);
    const due = await history.hostCensusDue(ids, new Date(now.getTime() - input.hostCensusMinutes * 60_000), perScan);
    const censuses = await mapWithConcurrency(due, input.concurrency, async (environmentId): Promise<HostCensus> => {
      try {
        const hosts = await environments.withApi(environmentId, 'automation', ({ entities }) =>
          collect(entities.listOneAgents({ pageSize: 4000 })),
        );
        const agentVersions: Record<string, number> = {};
        for (const host of hosts) {
          const v = host.agentVersion;
          const version = v ? `${v.major}.${v.minor}.${v.revision}` : 'unknown';
          agentVersions[version] = (agentVersions[version] ?? 0) + 1;
        }
        return { environmentId, at: new Date(), hosts: hosts.length, agentVersions };
      } catch (err) {
        return { environmentId, at: new Date(), error: reason(err) };
      }
    });
    await history.recordHostCensuses(censuses);
    return censuses.length;
  }

  return { scanFleet };
}
