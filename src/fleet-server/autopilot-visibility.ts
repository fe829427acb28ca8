import type { Client } from '@temporalio/client';
import { ENROLL_FLEET, HOST_ENROLLMENT } from '../shared/enrollment.js';
import { FLEET_MAINTENANCE } from '../shared/maintenance.js';
import { ONBOARD_CUSTOMER } from '../shared/onboarding.js';
import { AutopilotPhase } from '../shared/phases.js';
import { REMEDIATE_CPU_SATURATION } from '../shared/remediation.js';
import { ADOPT_ENVIRONMENTS } from '../shared/environments.js';
import { AUTOPILOT_PHASE, DT_ENVIRONMENT_ID } from '../shared/search-attributes.js';
import type { AutopilotActivity } from '../shared/fleet-status.js';

const COUNTED = {
  onboardings: ONBOARD_CUSTOMER,
  enrollments: HOST_ENROLLMENT,
  fleets: ENROLL_FLEET,
  remediations: REMEDIATE_CPU_SATURATION,
  maintenance: FLEET_MAINTENANCE,
  adoptions: ADOPT_ENVIRONMENTS,
} as const;

/** Runs of a type that were running at `at` (or are running now), by Temporal's visibility. */
function runningAt(workflowType: string, at: Date | undefined): string {
  if (!at) return `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running'`;
  const t = at.toISOString();
  return `WorkflowType = '${workflowType}' AND StartTime <= '${t}' AND (ExecutionStatus = 'Running' OR CloseTime > '${t}')`;
}

const MAX_LISTED = 5_000;

/**
 * What Autopilot itself is doing, asked of Temporal's visibility each time (counted, never copied
 * into the fleet database): which environments are healing or onboarding, and how many runs of
 * each kind are going on.
 */
export class AutopilotVisibility {
  constructor(private readonly client: Client) {}

  /** Environments with a run of the type going on at `at`, with each run's phase. */
  async environmentsWith(workflowType: string, at?: Date): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    let n = 0;
    for await (const run of this.client.workflow.list({ query: runningAt(workflowType, at), pageSize: 1000 })) {
      const environment = run.typedSearchAttributes.get(DT_ENVIRONMENT_ID);
      if (environment) {
        const phases = found.get(environment) ?? [];
        phases.push(run.typedSearchAttributes.get(AUTOPILOT_PHASE) ?? AutopilotPhase.Running);
        found.set(environment, phases);
      }
      if (++n >= MAX_LISTED) break;
    }
    return found;
  }

  async activity(healing: Map<string, string[]>): Promise<AutopilotActivity> {
    const running: Record<string, number> = {};
    await Promise.all(
      Object.entries(COUNTED).map(async ([name, type]) => {
        running[name] = (await this.client.workflow.count(runningAt(type, undefined))).count;
      }),
    );
    const remediationsByPhase: Record<string, number> = {};
    for (const phases of healing.values())
      for (const phase of phases) remediationsByPhase[phase] = (remediationsByPhase[phase] ?? 0) + 1;
    const needingAttention = (
      await this.client.workflow.count(
        `ExecutionStatus = 'Running' AND ${AUTOPILOT_PHASE.name} = '${AutopilotPhase.NeedsAttention}'`,
      )
    ).count;
    return { running, remediationsByPhase, needingAttention };
  }
}
