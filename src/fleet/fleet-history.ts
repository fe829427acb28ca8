import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { FleetProblemsTable, FleetSchema } from '../database/fleet-schema.js';
import type { FleetIncident, ProblemsOverTimePoint } from '../shared/fleet-status.js';
import type { KnownOpenProblem, ProblemChange } from './problem-changes.js';

/** What one scan learnt of one environment's problems. */
export interface EnvironmentProblemScan {
  environmentId: string;
  at: Date;
  changes: ProblemChange[];
  /** Why its problems could not be read; the changes are then empty. */
  error?: string;
}

export interface HostCensus {
  environmentId: string;
  at: Date;
  hosts?: number;
  agentVersions?: Record<string, number>;
  error?: string;
}

export interface IncidentRule {
  /** Environments the same problem type must open in ... */
  environments: number;
  /** ... within this long. */
  windowMs: number;
}

export interface OpenProblemRow {
  environmentId: string;
  problemId: string;
  displayId: string;
  title: string;
  severity: string;
  impact: string;
  affectedEntities: number;
  openedAt: Date;
  incidentId: string | null;
}

export interface EnvironmentScanRow {
  environmentId: string;
  problemsOkAt: Date | null;
  problemsError: string | null;
  hostsScannedAt: Date | null;
  hostsError: string | null;
}

const ts = (d: Date) => d.toISOString();

type FleetProblemRow = Selectable<FleetProblemsTable>;

/**
 * The fleet database's memory of what the scans saw: problems as their changes (opened, updated,
 * closed), host censuses only when they changed, and fleet incidents. Any moment of the retention
 * is rebuilt from these; nothing is written for a scan that saw nothing new.
 */
export class FleetHistory {
  constructor(private readonly db: Kysely<FleetSchema>) {}

  /** The problems recorded open, and those closed since `closedSince`, per environment. */
  async knownProblems(closedSince: Date) {
    const rows = await this.db
      .selectFrom('fleet_problems')
      .select(['environment_id', 'problem_id', 'title', 'severity', 'impact', 'affected_entities', 'closed_at'])
      .where((eb) => eb.or([eb('closed_at', 'is', null), eb('closed_at', '>=', closedSince)]))
      .execute();
    const open = new Map<string, KnownOpenProblem[]>();
    const closed = new Map<string, Set<string>>();
    for (const r of rows) {
      if (r.closed_at === null) {
        const list = open.get(r.environment_id) ?? [];
        list.push({
          problemId: r.problem_id,
          title: r.title,
          severity: r.severity,
          impact: r.impact,
          affectedEntities: r.affected_entities,
        });
        open.set(r.environment_id, list);
      } else {
        const set = closed.get(r.environment_id) ?? new Set<string>();
        set.add(r.problem_id);
        closed.set(r.environment_id, set);
      }
    }
    return { open, closed };
  }

  /** Writes a batch of environments' scan results in one transaction. */
  async recordProblemScans(scans: readonly EnvironmentProblemScan[]): Promise<number> {
    if (scans.length === 0) return 0;
    let written = 0;
    await this.db.transaction().execute(async (tx) => {
      const changeRows = scans.flatMap((scan) =>
        scan.changes.map((c) => ({
          environment_id: scan.environmentId,
          problem_id: c.problem.problemId,
          change: c.change,
          at: c.at,
          title: c.problem.title,
          severity: c.problem.severity,
          impact: c.problem.impact,
          affected_entities: c.problem.affectedEntities,
        })),
      );
      written = changeRows.length;
      for (let i = 0; i < changeRows.length; i += 500) {
        await tx
          .insertInto('fleet_problem_changes')
          .values(changeRows.slice(i, i + 500))
          .execute();
      }
      for (const scan of scans) {
        for (const c of scan.changes) {
          const p = c.problem;
          if (c.change === 'opened') {
            await tx
              .insertInto('fleet_problems')
              .values({
                environment_id: scan.environmentId,
                problem_id: p.problemId,
                display_id: p.displayId,
                title: p.title,
                severity: p.severity,
                impact: p.impact,
                affected_entities: p.affectedEntities,
                opened_at: p.startTime ?? c.at,
              })
              .onConflict((oc) => oc.columns(['environment_id', 'problem_id']).doNothing())
              .execute();
          } else {
            await tx
              .updateTable('fleet_problems')
              .set({
                title: p.title,
                severity: p.severity,
                impact: p.impact,
                affected_entities: p.affectedEntities,
                ...(c.change === 'closed' ? { closed_at: c.at } : {}),
              })
              .where('environment_id', '=', scan.environmentId)
              .where('problem_id', '=', p.problemId)
              .execute();
          }
        }
      }
      // One row per environment: an upsert may not touch a row twice, and a batch can hold two
      // scans of one environment (a day of history written at once); the later one wins.
      const latest = new Map<
        string,
        {
          environment_id: string;
          problems_scanned_at: Date;
          problems_ok_at: Date | null;
          problems_error: string | null;
        }
      >();
      for (const scan of scans) {
        const before = latest.get(scan.environmentId);
        latest.set(scan.environmentId, {
          environment_id: scan.environmentId,
          problems_scanned_at: scan.at,
          problems_ok_at: scan.error === undefined ? scan.at : (before?.problems_ok_at ?? null),
          problems_error: scan.error ?? null,
        });
      }
      const values = [...latest.values()];
      await tx
        .insertInto('fleet_environment_scans')
        .values(values)
        .onConflict((oc) =>
          oc.column('environment_id').doUpdateSet((eb) => ({
            problems_scanned_at: eb.ref('excluded.problems_scanned_at'),
            problems_ok_at: sql<Date>`coalesce(excluded.problems_ok_at, fleet_environment_scans.problems_ok_at)`,
            problems_error: eb.ref('excluded.problems_error'),
          })),
        )
        .execute();
    });
    return written;
  }

  /** Environments whose host census is older than `olderThan` (or missing), oldest first. */
  async hostCensusDue(environmentIds: readonly string[], olderThan: Date, limit: number): Promise<string[]> {
    if (environmentIds.length === 0 || limit <= 0) return [];
    const scanned = await this.db
      .selectFrom('fleet_environment_scans')
      .select(['environment_id', 'hosts_scanned_at'])
      .where('hosts_scanned_at', 'is not', null)
      .execute();
    const last = new Map(scanned.map((r) => [r.environment_id, r.hosts_scanned_at!.getTime()]));
    return environmentIds
      .filter((id) => (last.get(id) ?? 0) < olderThan.getTime())
      .sort((a, b) => (last.get(a) ?? 0) - (last.get(b) ?? 0))
      .slice(0, limit);
  }

  /** Records censuses; a snapshot row only for an environment whose count or versions changed. */
  async recordHostCensuses(censuses: readonly HostCensus[]): Promise<number> {
    if (censuses.length === 0) return 0;
    const ids = censuses.map((c) => c.environmentId);
    const latest = await this.latestHostSnapshots(undefined, ids);
    let snapshots = 0;
    await this.db.transaction().execute(async (tx) => {
      for (const census of censuses) {
        if (census.hosts !== undefined) {
          const before = latest.get(census.environmentId);
          const versions = census.agentVersions ?? {};
          if (!before || before.hosts !== census.hosts || !sameCounts(before.agentVersions, versions)) {
            await tx
              .insertInto('fleet_host_snapshots')
              .values({
                environment_id: census.environmentId,
                at: census.at,
                hosts: census.hosts,
                agent_versions: JSON.stringify(versions),
              })
              .execute();
            snapshots++;
          }
        }
        await tx
          .insertInto('fleet_environment_scans')
          .values({
            environment_id: census.environmentId,
            hosts_scanned_at: census.at,
            hosts_error: census.error ?? null,
          })
          .onConflict((oc) =>
            oc.column('environment_id').doUpdateSet({ hosts_scanned_at: census.at, hosts_error: census.error ?? null }),
          )
          .execute();
      }
    });
    return snapshots;
  }

  /**
   * A problem type that opened in at least `rule.environments` environments within `rule.windowMs`
   * is a fleet incident: one is opened (or the open one grows), and its problems point to it. It
   * closes when none of its problems is open any more.
   */
  async recordIncidents(rule: IncidentRule, now: Date): Promise<string[]> {
    const since = new Date(now.getTime() - rule.windowMs);
    const candidates = await this.db
      .selectFrom('fleet_problems')
      .select(['title', sql<number>`count(distinct environment_id)`.as('environments')])
      .where('opened_at', '>=', since)
      .groupBy('title')
      .having(sql`count(distinct environment_id)`, '>=', rule.environments)
      .execute();
    const touched: string[] = [];
    for (const { title } of candidates) {
      const problems = await this.db
        .selectFrom('fleet_problems')
        .select(['environment_id', 'problem_id', 'opened_at'])
        .where('title', '=', title)
        .where('opened_at', '>=', since)
        .execute();
      const environments = [...new Set(problems.map((p) => p.environment_id))].sort();
      const firstOpened = new Date(Math.min(...problems.map((p) => p.opened_at.getTime())));
      const lastOpened = new Date(Math.max(...problems.map((p) => p.opened_at.getTime())));
      await this.db.transaction().execute(async (tx) => {
        const current = await tx
          .selectFrom('fleet_incidents')
          .selectAll()
          .where('problem_type', '=', title)
          .where('closed_at', 'is', null)
          .executeTakeFirst();
        let id: string;
        if (current) {
          id = current.id;
          const merged = [...new Set([...current.environments, ...environments])].sort();
          await tx
            .updateTable('fleet_incidents')
            .set({
              environments: JSON.stringify(merged),
              last_opened_at: lastOpened > current.last_opened_at ? lastOpened : current.last_opened_at,
            })
            .where('id', '=', id)
            .execute();
        } else {
          // Named after its type and first opening, so a second scan of the same burst finds it again.
          id = `incident-${createHash('sha256')
            .update(`${title}|${ts(firstOpened)}`)
            .digest('hex')
            .slice(0, 12)}`;
          await tx
            .insertInto('fleet_incidents')
            .values({
              id,
              problem_type: title,
              opened_at: firstOpened,
              last_opened_at: lastOpened,
              environments: JSON.stringify(environments),
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .execute();
        }
        await tx
          .updateTable('fleet_problems')
          .set({ incident_id: id })
          .where('title', '=', title)
          .where('opened_at', '>=', since)
          .where('incident_id', 'is', null)
          .execute();
        touched.push(id);
      });
    }
    // An open incident none of whose problems is open any more is over.
    await sql`
      update fleet_incidents i set closed_at = ${now}
      where i.closed_at is null
        and not exists (select 1 from fleet_problems p where p.incident_id = i.id and p.closed_at is null)
        and i.last_opened_at < ${since}
    `.execute(this.db);
    return touched;
  }

  async recordScan(scan: {
    startedAt: Date;
    finishedAt: Date;
    environments: number;
    failed: number;
    hostScans: number;
    changes: number;
  }): Promise<void> {
    await this.db
      .insertInto('fleet_scans')
      .values({
        started_at: scan.startedAt,
        finished_at: scan.finishedAt,
        environments: scan.environments,
        failed: scan.failed,
        host_scans: scan.hostScans,
        changes: scan.changes,
      })
      .execute();
  }

  /** The last scan that finished at or before `at`. */
  async lastScan(at?: Date) {
    let query = this.db.selectFrom('fleet_scans').selectAll();
    if (at) query = query.where('finished_at', '<=', at);
    return query.orderBy('finished_at', 'desc').limit(1).executeTakeFirst();
  }

  async firstRecord(): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('fleet_scans')
      .select((eb) => eb.fn.min('started_at').as('first'))
      .executeTakeFirst();
    return row?.first ? new Date(row.first) : undefined;
  }

  /** Forgets what is older than the retention; an environment's newest census stays, however old. */
  async prune(before: Date): Promise<void> {
    await this.db.deleteFrom('fleet_problem_changes').where('at', '<', before).execute();
    await this.db.deleteFrom('fleet_problems').where('closed_at', '<', before).execute();
    await this.db.deleteFrom('fleet_incidents').where('closed_at', '<', before).execute();
    await this.db.deleteFrom('fleet_scans').where('finished_at', '<', before).execute();
    await sql`
      delete from fleet_host_snapshots s where s.at < ${before}
        and exists (select 1 from fleet_host_snapshots n where n.environment_id = s.environment_id and n.at > s.at)
    `.execute(this.db);
  }

  /** Problems open at `at`, with the values they had then, longest open first. */
  async openProblemsAt(at: Date, live: boolean): Promise<OpenProblemRow[]> {
    if (live) {
      const rows = await this.db
        .selectFrom('fleet_problems')
        .selectAll()
        .where('closed_at', 'is', null)
        .orderBy('opened_at')
        .execute();
      return rows.map(toOpenProblem);
    }
    const result = await sql<Omit<FleetProblemRow, 'closed_at'>>`
      select p.environment_id, p.problem_id, p.display_id, p.opened_at, p.incident_id,
             c.title, c.severity, c.impact, c.affected_entities
      from fleet_problems p
      join lateral (
        select title, severity, impact, affected_entities from fleet_problem_changes c
        where c.environment_id = p.environment_id and c.problem_id = p.problem_id and c.at <= ${at}
        order by c.at desc, c.id desc limit 1
      ) c on true
      where p.opened_at <= ${at} and (p.closed_at is null or p.closed_at > ${at})
      order by p.opened_at
    `.execute(this.db);
    return result.rows.map((r) => toOpenProblem({ ...r, opened_at: new Date(r.opened_at) }));
  }

  /** Open problems by severity at even steps over the day before `at`. */
  async problemsOverTime(at: Date, steps = 48, spanMs = 86_400_000): Promise<ProblemsOverTimePoint[]> {
    const from = new Date(at.getTime() - spanMs);
    const stepMs = Math.round(spanMs / steps);
    const result = await sql<{ bucket: Date; severity: string | null; open: string }>`
      with window_problems as (
        select severity, opened_at, closed_at from fleet_problems
        where opened_at <= ${at} and (closed_at is null or closed_at > ${from})
      )
      select b.bucket, w.severity, count(w.severity) as open
      from generate_series(${from}::timestamptz, ${at}::timestamptz, ${`${stepMs} milliseconds`}::interval) as b(bucket)
      left join window_problems w on w.opened_at <= b.bucket and (w.closed_at is null or w.closed_at > b.bucket)
      group by b.bucket, w.severity
      order by b.bucket
    `.execute(this.db);
    const points = new Map<string, ProblemsOverTimePoint>();
    for (const row of result.rows) {
      const key = new Date(row.bucket).toISOString();
      const point = points.get(key) ?? { at: key, open: 0, bySeverity: {} };
      const count = Number(row.open);
      if (row.severity !== null && count > 0) {
        point.open += count;
        point.bySeverity[row.severity] = count;
      }
      points.set(key, point);
    }
    return [...points.values()];
  }

  /** Incidents open at `at`, and those that closed within the day before it. */
  async incidentsAt(at: Date): Promise<FleetIncident[]> {
    const dayBefore = new Date(at.getTime() - 86_400_000);
    const rows = await this.db
      .selectFrom('fleet_incidents')
      .selectAll()
      .where('opened_at', '<=', at)
      .where((eb) => eb.or([eb('closed_at', 'is', null), eb('closed_at', '>', dayBefore)]))
      .orderBy('opened_at', 'desc')
      .execute();
    return rows.map((r) => {
      const open = r.closed_at === null || r.closed_at > at;
      return {
        id: r.id,
        problemType: r.problem_type,
        openedAt: ts(r.opened_at),
        ...(!open && r.closed_at ? { closedAt: ts(r.closed_at) } : {}),
        open,
        environments: r.environments,
      };
    });
  }

  /** Each environment's newest host census (at or before `at`, when given). */
  async latestHostSnapshots(
    at: Date | undefined,
    environmentIds?: readonly string[],
  ): Promise<Map<string, { hosts: number; agentVersions: Record<string, number>; at: Date }>> {
    let query = this.db
      .selectFrom('fleet_host_snapshots')
      .select(['environment_id', 'hosts', 'agent_versions', 'at'])
      .distinctOn('environment_id')
      .orderBy('environment_id')
      .orderBy('at', 'desc');
    if (at) query = query.where('at', '<=', at);
    if (environmentIds) {
      if (environmentIds.length === 0) return new Map();
      query = query.where('environment_id', 'in', environmentIds);
    }
    const rows = await query.execute();
    return new Map(rows.map((r) => [r.environment_id, { hosts: r.hosts, agentVersions: r.agent_versions, at: r.at }]));
  }

  async environmentScans(): Promise<Map<string, EnvironmentScanRow>> {
    const rows = await this.db.selectFrom('fleet_environment_scans').selectAll().execute();
    return new Map(
      rows.map((r) => [
        r.environment_id,
        {
          environmentId: r.environment_id,
          problemsOkAt: r.problems_ok_at,
          problemsError: r.problems_error,
          hostsScannedAt: r.hosts_scanned_at,
          hostsError: r.hosts_error,
        },
      ]),
    );
  }
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

function toOpenProblem(r: Omit<FleetProblemRow, 'closed_at'>): OpenProblemRow {
  return {
    environmentId: r.environment_id,
    problemId: r.problem_id,
    displayId: r.display_id,
    title: r.title,
    severity: r.severity,
    impact: r.impact,
    affectedEntities: r.affected_entities,
    openedAt: r.opened_at,
    incidentId: r.incident_id,
  };
}
