import { createCommentOnProblems } from './comment-problems.js';
import type { RemediationDeps } from './deps.js';
import { createPlanRoll } from './plan-roll.js';
import { createResolveCatalogContext } from './resolve-catalog-context.js';
import { createRollArtifactActivities } from './roll-artifact.js';
import { createRouteProblemActivities } from './route-problem.js';
import { createValidateProblem } from './validate-problem.js';

export type { RemediationDeps } from './deps.js';

export function createRemediationActivities(deps: RemediationDeps) {
  return {
    validateProblemOccurrence: createValidateProblem(deps),
    resolveCatalogContext: createResolveCatalogContext(deps),
    planInstanceTypeRoll: createPlanRoll(deps),
    ...createRollArtifactActivities(deps),
    commentOnProblems: createCommentOnProblems(deps),
    ...createRouteProblemActivities(deps),
  };
}
