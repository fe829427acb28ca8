import { DynatraceApiError, DynatraceFailureType, type Problem, type ProblemV1 } from '../../dynatrace/index.js';
import type { ProblemHost } from '../../shared/problem-routing.js';
import type { RemediationDeps } from './deps.js';

/** A host that a CPU-saturation event of the problem is on. */
export interface SaturatedHost {
  id: string;
  name: string;
  eventType: string;
}

/** v2 evidence: EVENT items of one of the CPU-saturation types on a HOST. */
export function cpuSaturationInEvidence(problem: Problem, cpuEventTypes: readonly string[]): SaturatedHost[] {
  return (problem.evidenceDetails?.details ?? [])
    .filter(
      (d) =>
        d.evidenceType === 'EVENT' &&
        d.eventType !== undefined &&
        cpuEventTypes.includes(d.eventType) &&
        d.entity?.entityId.type === 'HOST',
    )
    .map((d) => ({
      id: d.entity!.entityId.id,
      name: d.entity!.name ?? d.entity!.entityId.id,
      eventType: d.eventType!,
    }));
}

/** v1 ranked events, for clusters whose v2 answer carries no evidence. */
export function cpuSaturationInRankedEvents(problem: ProblemV1, cpuEventTypes: readonly string[]): SaturatedHost[] {
  return problem.rankedEvents
    .filter((e) => cpuEventTypes.includes(e.eventType) && e.entityId.startsWith('HOST-'))
    .map((e) => ({ id: e.entityId, name: e.entityName ?? e.entityId, eventType: e.eventType }));
}

/** The event types the problem reports, for a reason that tells an operator what it was instead. */
export function eventTypesOf(problem: Problem, v1?: ProblemV1): string[] {
  const v2 = (problem.evidenceDetails?.details ?? []).map((d) => d.eventType ?? d.evidenceType);
  return [...new Set([...v2, ...(v1?.rankedEvents ?? []).map((e) => e.eventType)])];
}

/**
 * Every HOST the problem names: hosts with saturation events first, then the root cause, the affected
 * and the impacted entities. A CPU saturation that impacts a service or an application names its host
 * only as the root cause or among the affected entities (reference §13).
 */
export function hostsOfProblem(problem: Problem, saturated: readonly SaturatedHost[]): ProblemHost[] {
  const hosts = new Map<string, ProblemHost>();
  const add = (id: string, name: string | undefined) => {
    if (!id.startsWith('HOST-') || hosts.has(id)) return;
    hosts.set(id, { entityId: id, ...(name && name !== id ? { name } : {}) });
  };
  for (const s of saturated) add(s.id, s.name);
  const stubs = [
    ...(problem.rootCauseEntity ? [problem.rootCauseEntity] : []),
    ...problem.affectedEntities,
    ...problem.impactedEntities,
  ];
  for (const stub of stubs) if (stub.entityId.type === 'HOST') add(stub.entityId.id, stub.name);
  return [...hosts.values()];
}

export interface ProblemEvidence {
  problem: Problem;
  /** Read only when the v2 answer had no CPU-saturation evidence. */
  v1?: ProblemV1;
  saturated: SaturatedHost[];
}

/**
 * The problem with its evidence through the environment's automation token, or undefined when it
 * does not exist.
 */
export async function readProblemEvidence(
  deps: Pick<RemediationDeps, 'dynatrace'>,
  input: { environmentId: string; problemId: string; cpuEventTypes: readonly string[] },
): Promise<ProblemEvidence | undefined> {
  return deps.dynatrace.environments.withApi(input.environmentId, 'automation', async ({ problems }) => {
    let problem: Problem;
    try {
      problem = await problems.get(input.problemId, ['evidenceDetails']);
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return undefined;
      throw err;
    }
    const saturated = cpuSaturationInEvidence(problem, input.cpuEventTypes);
    if (saturated.length > 0) return { problem, saturated };
    const v1 = await problems.getV1(input.problemId);
    return { problem, v1, saturated: cpuSaturationInRankedEvents(v1, input.cpuEventTypes) };
  });
}
