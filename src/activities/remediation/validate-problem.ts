import { eventTypesOf, readProblemEvidence } from './problem-evidence.js';
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
    const evidence = await readProblemEvidence(deps, input);
    if (!evidence) {
      return { valid: false, reason: `problem ${input.problemId} does not exist in ${input.environmentId}` };
    }
    const { problem, saturated } = evidence;
    const named = `${problem.displayId} "${problem.title}"`;
    if (problem.status !== 'OPEN')
      return { valid: false, displayId: problem.displayId, reason: `${named} was already closed when checked` };
    if (saturated.length === 0) {
      const events = eventTypesOf(problem, evidence.v1);
      return {
        valid: false,
        displayId: problem.displayId,
        reason: `${named} is not a CPU saturation on a host (events: ${events.join(', ') || 'none'})`,
      };
    }
    const host = saturated.find((s) => s.id === input.hostEntityId) ?? saturated[0]!;
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
