import { DynatraceApiError, DynatraceFailureType } from '../../dynatrace/index.js';
import type { RemediationDeps } from './deps.js';

export type ProblemValidation =
  | { valid: true; problemId: string; displayId: string; title: string; hostName: string }
  | { valid: false; displayId?: string; reason: string };

export function createValidateProblem(deps: RemediationDeps) {
  /**
   * Checks a notified problem against the problems API, never the payload: it must exist, still be
   * open, and carry a CPU-saturation event on this very host (v2 evidence, v1 ranked events as the
   * fallback for clusters whose v2 answer lacks evidence).
   */
  return async function validateProblemOccurrence(input: {
    environmentId: string;
    problemId: string;
    hostEntityId: string;
    cpuEventTypes: string[];
  }): Promise<ProblemValidation> {
    const token = await deps.environmentTokens.get(input.environmentId, 'automation');
    const problems = deps.dynatrace.client.environment(input.environmentId, token).problems;
    let problem;
    try {
      problem = await problems.get(input.problemId, ['evidenceDetails']);
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) {
        return { valid: false, reason: `problem ${input.problemId} does not exist in ${input.environmentId}` };
      }
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.unauthorized) {
        deps.environmentTokens.forget(input.environmentId, 'automation');
      }
      throw err;
    }
    const named = `${problem.displayId} "${problem.title}"`;
    if (problem.status !== 'OPEN')
      return { valid: false, displayId: problem.displayId, reason: `${named} was already closed when checked` };

    const cpu = (problem.evidenceDetails?.details ?? []).filter(
      (d) =>
        d.evidenceType === 'EVENT' &&
        d.eventType &&
        input.cpuEventTypes.includes(d.eventType) &&
        d.entity?.entityId.type === 'HOST',
    );
    let host = cpu[0]
      ? { id: cpu[0].entity!.entityId.id, name: cpu[0].entity!.name ?? cpu[0].entity!.entityId.id }
      : undefined;
    let events = (problem.evidenceDetails?.details ?? []).map((d) => d.eventType ?? d.evidenceType);
    if (!host) {
      const v1 = await problems.getV1(input.problemId);
      const ranked = v1.rankedEvents.find(
        (e) => input.cpuEventTypes.includes(e.eventType) && e.entityId.startsWith('HOST-'),
      );
      if (ranked) host = { id: ranked.entityId, name: ranked.entityName ?? ranked.entityId };
      else events = [...events, ...v1.rankedEvents.map((e) => e.eventType)];
    }
    if (!host) {
      return {
        valid: false,
        displayId: problem.displayId,
        reason: `${named} is not a CPU saturation on a host (events: ${[...new Set(events)].join(', ') || 'none'})`,
      };
    }
    if (host.id !== input.hostEntityId) {
      return {
        valid: false,
        displayId: problem.displayId,
        reason: `the CPU saturation of ${problem.displayId} is on ${host.id}, not on ${input.hostEntityId}`,
      };
    }
    return {
      valid: true,
      problemId: problem.problemId,
      displayId: problem.displayId,
      title: problem.title,
      hostName: host.name,
    };
  };
}
