import { activityInfo, getClient, log } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { startOnboarding } from '../../client/start-onboarding.js';
import type { z } from 'zod';
import type { onboardedEnvironmentSchema } from '../../shared/enrollment.js';
import { onboardWorkflowId, type OnboardCustomerResult } from '../../shared/onboarding.js';
import { environmentIdOf } from '../../shared/environment-id.js';

export type OnboardedEnvironment = z.infer<typeof onboardedEnvironmentSchema>;

export type OnboardingState =
  | { environmentId: string; state: 'ready'; onboarded: OnboardedEnvironment }
  | { environmentId: string; state: 'onboarding'; startedNow: boolean }
  | { environmentId: string; state: 'not-started' }
  | { environmentId: string; state: 'failed'; reason: string };

const RESTARTABLE = ['TERMINATED', 'TIMED_OUT', 'CANCELLED'];

/**
 * Where each environment's onboarding stands, starting it when there is none (by workflow id, so a
 * thousand hosts of one environment share one onboarding). Returns at once: callers wait with
 * durable timers instead of holding a worker slot. A failed or aborted onboarding is an operator's
 * business: it is reported, not restarted. With `startAtMost`, it starts at most that many (in the
 * order given) and reports the rest `not-started`: a fleet onboards a few environments at a time,
 * so the first are ready in seconds instead of all of them at the end of a long queue.
 */
export function createEnvironmentOnboardingActivities() {
  return {
    async ensureEnvironmentsOnboarding(input: {
      environments: { customer: string; stage: string }[];
      startAtMost?: number;
      /** Where onboardings it starts run (unset: this activity's queue). */
      taskQueue?: string;
    }): Promise<OnboardingState[]> {
      const client = getClient();
      const states: OnboardingState[] = [];
      let mayStart = input.startAtMost ?? Number.POSITIVE_INFINITY;
      for (const { customer, stage } of input.environments) {
        const environmentId = environmentIdOf({ customer, stage });
        const handle = client.workflow.getHandle<() => Promise<OnboardCustomerResult>>(
          onboardWorkflowId(environmentId),
        );
        let status: string | undefined;
        try {
          status = (await handle.describe()).status.name;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
        if ((status === undefined || RESTARTABLE.includes(status)) && mayStart <= 0) {
          states.push({ environmentId, state: 'not-started' });
        } else if (status === undefined || RESTARTABLE.includes(status)) {
          mayStart--;
          await startOnboarding(
            client,
            { customer, stage },
            { taskQueue: input.taskQueue ?? activityInfo().taskQueue },
          );
          log.info('Started onboarding for enrollment', { environmentId });
          states.push({ environmentId, state: 'onboarding', startedNow: true });
        } else if (status === 'RUNNING') {
          states.push({ environmentId, state: 'onboarding', startedNow: false });
        } else if (status === 'COMPLETED') {
          const result = await handle.result();
          states.push(
            result.installer
              ? {
                  environmentId,
                  state: 'ready',
                  onboarded: {
                    environmentId,
                    settings: result.enrollment,
                    installer: {
                      version: result.installer.version,
                      sha256: result.installer.sha256,
                      fileName: result.installer.fileName,
                    },
                  },
                }
              : {
                  environmentId,
                  state: 'failed',
                  reason: `the onboarding of ${environmentId} completed without an installer (its installer step was skipped); run it again`,
                },
          );
        } else {
          const reason = await handle.result().then(
            () => status,
            (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)),
          );
          states.push({
            environmentId,
            state: 'failed',
            reason: `the onboarding of ${environmentId} ${status === 'FAILED' ? 'failed' : status?.toLowerCase()}: ${reason}; run \`autopilot onboard --customer ${customer} --stage ${stage}\` again`,
          });
        }
      }
      return states;
    },
  };
}
