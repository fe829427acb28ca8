import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EnvironmentDecision, StandardsApplyProgress } from '../../shared/standards.js';

export type { EnvironmentDecision };

/** How far a StandardsApply run has come (the CLI's progress bar, the Temporal UI's query tab). */
export const standardsProgressQuery = defineQuery<StandardsApplyProgress>('standardsProgress');
/** Validated: the caller learns at once whether the run took it (`autopilot retry|skip <id> --environment`). */
export const decideEnvironmentUpdate = defineUpdate<{ environments: string[]; action: string }, [EnvironmentDecision]>(
  'decideEnvironment',
);
// For the Temporal UI and scripts: the same decision as a signal (an invalid one is logged and ignored).
export const retryEnvironmentSignal = defineSignal<[{ environmentId: string; reason?: string }]>('retryEnvironment');
export const skipEnvironmentSignal = defineSignal<[{ environmentId: string; reason?: string }]>('skipEnvironment');
