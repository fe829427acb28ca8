import { log } from '@temporalio/activity';
import { DynatraceApiError, DynatraceFailureType } from '../../dynatrace/index.js';
import { collect } from '../../dynatrace/pagination.js';
import type { RemediationDeps } from './deps.js';

export function createCommentOnProblems(deps: RemediationDeps) {
  /**
   * One comment per problem: the v2 comment API answers 201 without an id, so the marker in the
   * comment's context and a read before writing make a retry harmless (reference §7).
   */
  return async function commentOnProblems(input: {
    environmentId: string;
    problemIds: string[];
    message: string;
    marker: string;
  }): Promise<{ commented: string[]; alreadyCommented: string[] }> {
    return deps.dynatrace.environments.withApi(input.environmentId, 'automation', async ({ problems }) => {
      const commented: string[] = [];
      const alreadyCommented: string[] = [];
      for (const problemId of input.problemIds) {
        try {
          const comments = await collect(problems.comments(problemId));
          if (comments.some((c) => c.context === input.marker)) {
            alreadyCommented.push(problemId);
            continue;
          }
          await problems.addComment(problemId, { message: input.message, context: input.marker });
          commented.push(problemId);
        } catch (err) {
          if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) {
            log.warn('Problem to comment on no longer exists', { environmentId: input.environmentId, problemId });
            continue;
          }
          throw err;
        }
      }
      return { commented, alreadyCommented };
    });
  };
}
