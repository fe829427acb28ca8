import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../shared/failure-types.js';
import { webhookPath } from '../../shared/webhook.js';
import { SELF_HEALING_SET } from '../../standards/builtin-standards.js';
import { StandardsRun, type StandardsRunDeps } from '../standards/standards-run.js';

export interface EnsuredNotifications {
  status: 'configured' | 'updated' | 'unchanged' | 'skipped';
  detail: string;
}

const SCHEMAS = ['builtin:alerting.profile', 'builtin:problem.notifications'];

export function createEnsureProblemNotifications(deps: StandardsRunDeps) {
  /**
   * Every onboarded environment feeds the self-healing loop: a dedicated alerting profile forwards
   * CPU saturation at once (the Default profile holds resource contention back 30 minutes, reference
   * §8.1), and a webhook notification sends it to our receiver with the environment's own key (derived
   * from the master key; in shared mode the one key) as a secret header.
   * They are the built-in self-healing standards, planned and written by the standards writer: objects
   * are ours by external id and only written when they differ; nothing else is touched.
   */
  return async function ensureProblemNotifications(input: { environmentId: string }): Promise<EnsuredNotifications> {
    const { publicUrl, apiKey } = deps.webhook;
    if (!publicUrl || !apiKey) {
      return {
        status: 'skipped',
        detail: 'no webhook receiver configured (AUTOPILOT_WEBHOOK_PUBLIC_URL and WEBHOOK_API_KEY)',
      };
    }
    const environment = await deps.dynatrace.environments.environment(input.environmentId);
    const run = new StandardsRun(deps, SELF_HEALING_SET, { enforceOnly: false });
    const outcome = await run.applyEnvironment(environment, SCHEMAS);
    if (outcome.outcome === 'needs-attention') {
      throw ApplicationFailure.nonRetryable(
        `problem notifications of ${input.environmentId} refused: ${outcome.reason}`,
        FailureType.DynatraceBadRequest,
      );
    }
    const status = outcome.created > 0 ? 'configured' : outcome.updated > 0 ? 'updated' : 'unchanged';
    log.info('Problem notifications ensured', { status, ...outcome });
    return {
      status,
      detail:
        `webhook to ${publicUrl}${webhookPath(input.environmentId)} via an immediate CPU-saturation profile` +
        (outcome.orphans?.length
          ? `; duplicates with our externalId left alone (the oldest is used): ${outcome.orphans.join(', ')}`
          : ''),
    };
  };
}
