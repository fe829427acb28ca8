import type { AutopilotPhase } from './phases.js';

export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'needs-attention';

export interface StepProgress {
  name: string;
  title: string;
  status: StepStatus;
  /** What happened, in words an operator understands ("created", "reused token dt0c01.ABC…"). */
  detail?: string;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
}

export interface AttentionRequest {
  step: string;
  reason: string;
  failureType?: string;
  since: string;
  /** What the operator may send: retry always, skip only for optional steps, abort always. */
  allowed: ('retry' | 'skip' | 'abort')[];
}

/** Answer of the `progress` query of every Autopilot workflow. */
export interface WorkflowProgress {
  phase: AutopilotPhase;
  steps: StepProgress[];
  attention?: AttentionRequest;
  decisions: { action: string; step: string; reason?: string; at: string }[];
}
