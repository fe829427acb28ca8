/** Values of the `AutopilotPhase` search attribute: what an operator filters runs by. */
export const AutopilotPhase = {
  Running: 'Running',
  NeedsAttention: 'NeedsAttention',
  AwaitingApproval: 'AwaitingApproval',
  Waiting: 'Waiting',
  Completed: 'Completed',
  Skipped: 'Skipped',
  Aborted: 'Aborted',
  Failed: 'Failed',
} as const;

export type AutopilotPhase = (typeof AutopilotPhase)[keyof typeof AutopilotPhase];

/** Every phase, for schemas and validation. */
export const AUTOPILOT_PHASES = Object.values(AutopilotPhase) as [AutopilotPhase, ...AutopilotPhase[]];
