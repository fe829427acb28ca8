import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ProblemNotification, RemediationStatus } from '../../shared/remediation.js';

export type { ApprovalDecision };

/** Sent by the webhook (signal-with-start) for every notification about the host. */
export const problemNotificationSignal = defineSignal<[ProblemNotification]>('problemNotification');
/** For the Temporal UI; the CLI uses the validated `approval` update. */
export const approveSignal = defineSignal<[ApprovalDecision?]>('approve');
export const rejectSignal = defineSignal<[ApprovalDecision?]>('reject');
export const approvalUpdate = defineUpdate<
  { decision: 'approve' | 'reject' },
  ['approve' | 'reject', ApprovalDecision?]
>('approval');
export const remediationStatusQuery = defineQuery<RemediationStatus>('remediationStatus');
