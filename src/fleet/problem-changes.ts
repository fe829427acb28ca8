/** A problem as one scan read it from an environment's Problems v2 list. */
export interface ScannedProblem {
  problemId: string;
  displayId: string;
  title: string;
  status: 'OPEN' | 'CLOSED';
  severity: string;
  impact: string;
  affectedEntities: number;
  startTime: Date;
  /** Set once Dynatrace closed it. */
  endTime?: Date;
}

/** A problem the fleet database holds as open. */
export interface KnownOpenProblem {
  problemId: string;
  title: string;
  severity: string;
  impact: string;
  affectedEntities: number;
}

export interface ProblemChange {
  change: 'opened' | 'updated' | 'closed';
  at: Date;
  problem: Omit<ScannedProblem, 'status' | 'startTime' | 'endTime'> & { startTime?: Date };
}

const differs = (a: KnownOpenProblem, b: ScannedProblem) =>
  a.title !== b.title ||
  a.severity !== b.severity ||
  a.impact !== b.impact ||
  a.affectedEntities !== b.affectedEntities;

/**
 * What one scan of one environment changes: problems seen for the first time open (or seen only
 * once already closed: opened and closed, unless it was recorded closed before), open ones whose severity, title, impact or reach moved,
 * and open ones that closed — or vanished from a listing that covers their whole life, which only a
 * close does.
 */
export function problemChanges(
  known: readonly KnownOpenProblem[],
  alreadyClosed: ReadonlySet<string>,
  scanned: readonly ScannedProblem[],
  now: Date,
): ProblemChange[] {
  const changes: ProblemChange[] = [];
  const open = new Map(known.map((p) => [p.problemId, p]));
  const seen = new Set<string>();
  for (const problem of scanned) {
    seen.add(problem.problemId);
    if (alreadyClosed.has(problem.problemId)) continue;
    const before = open.get(problem.problemId);
    const { status: _status, startTime, endTime, ...values } = problem;
    if (!before) {
      if (problem.status === 'CLOSED' && endTime === undefined) continue;
      changes.push({ change: 'opened', at: startTime, problem: { ...values, startTime } });
      if (problem.status === 'CLOSED') changes.push({ change: 'closed', at: endTime ?? now, problem: values });
      continue;
    }
    if (differs(before, problem)) changes.push({ change: 'updated', at: now, problem: values });
    if (problem.status === 'CLOSED') changes.push({ change: 'closed', at: endTime ?? now, problem: values });
  }
  for (const before of known) {
    if (!seen.has(before.problemId)) changes.push({ change: 'closed', at: now, problem: { ...before, displayId: '' } });
  }
  return changes;
}
