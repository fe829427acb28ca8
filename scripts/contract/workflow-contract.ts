import { z } from 'zod';
import {
  ENROLL_FLEET,
  HOST_ENROLLMENT,
  hostEnrollmentInputSchema,
  hostEnrollmentResultSchema,
} from '../../src/shared/enrollment.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { enrollFleetInputSchema, fleetProgressSchema, fleetReportSchema } from '../../src/shared/fleet.js';
import {
  ONBOARD_CUSTOMER,
  onboardCustomerInputSchema,
  onboardCustomerResultSchema,
} from '../../src/shared/onboarding.js';
import {
  decisionArgsSchema,
  operatorDecisionAcceptedSchema,
  operatorDecisionSchema,
  workflowProgressSchema,
} from '../../src/shared/progress.js';
import {
  approvalDecisionSchema,
  problemNotificationSchema,
  REMEDIATE_CPU_SATURATION,
  remediationInputSchema,
  remediationResultSchema,
  remediationStatusSchema,
} from '../../src/shared/remediation.js';
import {
  environmentDecisionSchema,
  STANDARDS_APPLY,
  standardsApplyInputSchema,
  standardsApplyProgressSchema,
  standardsApplyResultSchema,
} from '../../src/shared/standards.js';

/**
 * The version of the contract with outside clients. A change that breaks a client (a workflow,
 * signal, update or query gone; a field a client reads gone or retyped; a new required input) must
 * raise the major version: the generator refuses to write one without it.
 */
// 2.0.0: workers act only on calls sealed with a codec key (plain JSON input is refused).
export const CONTRACT_VERSION = '2.0.0';

interface Message {
  name: string;
  description: string;
  /** One schema per argument, in order. */
  args: z.ZodType[];
  /** What an update answers or a query returns. */
  returns?: z.ZodType;
}

export interface WorkflowContract {
  type: string;
  description: string;
  workflowId: { pattern: string; example: string; note: string };
  idConflictPolicy: 'USE_EXISTING';
  idReusePolicy: 'ALLOW_DUPLICATE';
  startedBy: string;
  searchAttributes: { name: string; type: 'Keyword'; value: string }[];
  input: z.ZodType;
  result: z.ZodType;
  signals: Message[];
  updates: Message[];
  queries: Message[];
  failures: { type: string; when: string }[];
}

const phase = { name: 'AutopilotPhase', type: 'Keyword' as const, value: 'Running, NeedsAttention, Completed, …' };

/** The human in the loop that every workflow with steps registers (src/workflows/shared/operator-controls.ts). */
const operatorControls = {
  signals: ['retry', 'skip', 'abort'].map((name) => ({
    name,
    description: `Operator decision for the step that needs attention (the Temporal UI's way; \`decide\` validates)`,
    args: [decisionArgsSchema.optional()],
  })),
  updates: [
    {
      name: 'decide',
      description:
        'Validated operator decision for the step that needs attention: refused at once when the run is not waiting, ' +
        'a required step would be skipped, or corrected input (`retry` with `input`) is invalid',
      args: [operatorDecisionSchema],
      returns: operatorDecisionAcceptedSchema,
    },
  ],
  queries: [
    {
      name: 'progress',
      description: 'Phase, steps with their status and detail, what needs attention, decisions taken',
      args: [],
      returns: workflowProgressSchema,
    },
  ],
};

const invalidInput = {
  type: FailureType.InvalidWorkflowInput,
  when: 'the input does not hold (non-retryable; the message names the field)',
};
const aborted = { type: FailureType.OperatorAborted, when: 'an operator sent `abort`' };

export const WORKFLOWS: WorkflowContract[] = [
  {
    type: ONBOARD_CUSTOMER,
    description:
      'Environment `<customer>-<stage>` with its user groups, tokens in the secret store, the OneAgent installer and the ' +
      'self-healing notifications. Every step is an idempotent ensure: running it again changes nothing that is right.',
    workflowId: {
      pattern: 'onboard:<customer>-<stage>',
      example: 'onboard:abc-p1',
      note: 'the environment id is `<customer>-<stage>`',
    },
    idConflictPolicy: 'USE_EXISTING',
    idReusePolicy: 'ALLOW_DUPLICATE',
    startedBy: 'provisioning systems (clients, `autopilot onboard`, Puppet)',
    searchAttributes: [
      { name: 'DtEnvironmentId', type: 'Keyword', value: '<customer>-<stage>' },
      { name: 'DtCustomer', type: 'Keyword', value: '<customer>' },
      phase,
    ],
    input: onboardCustomerInputSchema,
    result: onboardCustomerResultSchema,
    ...operatorControls,
    failures: [invalidInput, aborted],
  },
  {
    type: HOST_ENROLLMENT,
    description:
      'OneAgent installed or upgraded on one host from the environment installer, then waited for until the host ' +
      'reports into its environment. Onboards the environment first if needed.',
    workflowId: {
      pattern: 'enroll:<customer>-<stage>:<hostname, lower case>',
      example: 'enroll:abc-p1:vm-17',
      note: 'host names are matched case-insensitively, as DNS does',
    },
    idConflictPolicy: 'USE_EXISTING',
    idReusePolicy: 'ALLOW_DUPLICATE',
    startedBy: 'provisioning systems, `autopilot enroll`, an EnrollFleet run',
    searchAttributes: [
      { name: 'DtEnvironmentId', type: 'Keyword', value: '<customer>-<stage>' },
      { name: 'DtHost', type: 'Keyword', value: '<hostname>' },
      { name: 'DtCustomer', type: 'Keyword', value: '<customer>' },
      phase,
    ],
    input: hostEnrollmentInputSchema,
    result: hostEnrollmentResultSchema,
    ...operatorControls,
    failures: [invalidInput, aborted],
  },
  {
    type: ENROLL_FLEET,
    description:
      'Thousands of HostEnrollment runs from one inventory, each environment onboarded once, within global and ' +
      'per-environment caps. The inventory is stored by `autopilot enroll-fleet` (content-addressed); other ' +
      'clients start the CLI, or HostEnrollment per host.',
    workflowId: {
      pattern: 'enroll-fleet:<first 16 hex digits of the inventory sha256>',
      example: 'enroll-fleet:3f2a9c0d1e4b5a67',
      note: 'the same inventory submitted again follows the same run',
    },
    idConflictPolicy: 'USE_EXISTING',
    idReusePolicy: 'ALLOW_DUPLICATE',
    startedBy: '`autopilot enroll-fleet`',
    searchAttributes: [phase],
    input: enrollFleetInputSchema,
    result: fleetReportSchema,
    signals: [],
    updates: [],
    queries: [
      {
        name: 'fleetProgress',
        description: 'Hosts done, running, waiting for attention and failed, per environment too',
        args: [],
        returns: fleetProgressSchema,
      },
    ],
    failures: [invalidInput],
  },
  {
    type: REMEDIATE_CPU_SATURATION,
    description:
      "One host's CPU-saturation self-healing: validated problems counted until they repeat, then a new Service " +
      'Catalog version with the next larger approved instance type (optionally after approval), then comments.',
    workflowId: {
      pattern: 'remediate:<environmentId>:<HOST entity id>',
      example: 'remediate:abc-p1:HOST-0123456789ABCDEF',
      note: 'started by the webhook receiver (signal-with-start of `problemNotification`)',
    },
    idConflictPolicy: 'USE_EXISTING',
    idReusePolicy: 'ALLOW_DUPLICATE',
    startedBy: 'the webhook receiver; operators and approval systems steer it',
    searchAttributes: [
      { name: 'DtEnvironmentId', type: 'Keyword', value: '<environmentId>' },
      { name: 'DtHost', type: 'Keyword', value: '<host name, or its entity id>' },
      { name: 'DtProblemId', type: 'Keyword', value: '<the problem that started it>' },
      phase,
    ],
    input: remediationInputSchema,
    result: remediationResultSchema,
    signals: [
      {
        name: 'problemNotification',
        description: 'A problem notification for the host (sent by the webhook receiver)',
        args: [problemNotificationSchema],
      },
      { name: 'approve', description: 'Approve the planned roll', args: [approvalDecisionSchema.optional()] },
      { name: 'reject', description: 'Reject the planned roll', args: [approvalDecisionSchema.optional()] },
      ...operatorControls.signals,
    ],
    updates: [
      {
        name: 'approval',
        description: 'Validated approve or reject: refused at once unless the run is awaiting approval',
        args: [z.enum(['approve', 'reject']), approvalDecisionSchema.optional()],
        returns: z.object({ decision: z.enum(['approve', 'reject']) }),
      },
      ...operatorControls.updates,
    ],
    queries: [
      {
        name: 'remediationStatus',
        description: 'Occurrences so far, what was ignored and why, approval and cool-down',
        args: [],
        returns: remediationStatusSchema,
      },
      ...operatorControls.queries,
    ],
    failures: [invalidInput, aborted],
  },
  {
    type: STANDARDS_APPLY,
    description:
      'A standards set applied to every environment it targets: planned, user groups granted once per group, then ' +
      "the environments with something to write, in batches within the global and each cluster's caps. An " +
      'environment whose cluster refuses an object waits for `retry` or `skip` while the others go on.',
    workflowId: {
      pattern: 'standards:<first 16 hex digits of the set hash>[:<selector, when not *>]',
      example: 'standards:c69402a35361108d',
      note: 'the same standards applied again while they are being applied attach to that run',
    },
    idConflictPolicy: 'USE_EXISTING',
    idReusePolicy: 'ALLOW_DUPLICATE',
    startedBy: '`autopilot standards apply` (the set is a validated standards folder: build it with the CLI)',
    searchAttributes: [phase],
    input: standardsApplyInputSchema,
    result: standardsApplyResultSchema,
    signals: [
      {
        name: 'retryEnvironment',
        description: 'Write an environment that needs attention again (`*`: every one)',
        args: [z.object({ environmentId: z.string(), reason: z.string().optional() })],
      },
      {
        name: 'skipEnvironment',
        description: 'Leave an environment that needs attention as it is (`*`: every one)',
        args: [z.object({ environmentId: z.string(), reason: z.string().optional() })],
      },
    ],
    updates: [
      {
        name: 'decideEnvironment',
        description: 'Validated retry or skip of environments that need attention; refused unless they wait for one',
        args: [environmentDecisionSchema],
        returns: z.object({ environments: z.array(z.string()), action: z.string() }),
      },
    ],
    queries: [
      {
        name: 'standardsProgress',
        description: 'Environments written, already right, skipped and waiting, and the writes so far',
        args: [],
        returns: standardsApplyProgressSchema,
      },
    ],
    failures: [invalidInput],
  },
];

/** Every workflow runs on the deployment's one task queue. */

export const TASK_QUEUE = { variable: 'AUTOPILOT_TASK_QUEUE', default: 'dynatrace-autopilot' };
