import type { SearchAttributePair } from '@temporalio/common';
import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { durationSchema, enrollmentSettingsSchema, onboardCustomerInputSchema } from './onboarding.js';
import { AutopilotPhase } from './phases.js';
import { AUTOPILOT_PHASE, DT_CUSTOMER, DT_ENVIRONMENT_ID, DT_HOST } from './search-attributes.js';
import { environmentIdOf } from './environment-id.js';

export const HOST_ENROLLMENT = 'HostEnrollment';
export const ENROLL_FLEET = 'EnrollFleet';

export const enrollmentWorkflowId = (environmentId: string, hostname: string) =>
  `enroll:${environmentId}:${hostname.toLowerCase()}`;

/** How a host enrollment shows in the Temporal UI, whether the CLI, a client or the fleet starts it. */
export function enrollmentStartDisplay(
  environmentId: string,
  host: { hostname: string; address: string; customer: string },
): { staticSummary: string; typedSearchAttributes: SearchAttributePair[] } {
  return {
    staticSummary: `Enroll ${host.hostname} (${host.address}) into ${environmentId}`,
    typedSearchAttributes: [
      { key: DT_ENVIRONMENT_ID, value: environmentId },
      { key: DT_HOST, value: host.hostname },
      { key: DT_CUSTOMER, value: host.customer },
      { key: AUTOPILOT_PHASE, value: AutopilotPhase.Running },
    ],
  };
}

/** RFC 1123 host names, as Dynatrace shows them and our entity selectors can quote them. */
export const hostnameSchema = lazySchema(() =>
  z
    .string()
    .regex(
      /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
      {
        message: 'must be a host name like vm-17 or web-1.example.com',
      },
    ),
);

export const addressSchema = lazySchema(() =>
  z
    .string()
    .regex(/^([A-Za-z0-9.-]{1,253}|\[?[0-9A-Fa-f:]{2,39}\]?)$/, { message: 'must be a host name or an IP address' }),
);

const onboardingShape = () => onboardCustomerInputSchema.shape;

/** An environment ready for hosts: its enrollment settings and the installer its onboarding cached. */
export const onboardedEnvironmentSchema = lazySchema(() =>
  z.object({
    environmentId: z.string(),
    settings: enrollmentSettingsSchema,
    installer: z.object({ version: z.string(), sha256: z.string(), fileName: z.string() }),
  }),
);

export const hostEnrollmentInputSchema = lazySchema(() =>
  z.object({
    hostname: hostnameSchema,
    address: addressSchema,
    port: z.number().int().min(1).max(65535).optional(),
    os: z.literal('linux', { message: 'only linux hosts are supported' }).default('linux'),
    customer: onboardingShape().customer,
    stage: onboardingShape().stage,
    /**
     * How to reach the host; the worker's AUTOPILOT_HOST_EXECUTOR when absent. Workers outside the
     * sandbox refuse `local` unless it is their configured executor (LocalExecutorRefused).
     */
    executor: z.enum(['ssh', 'local']).optional(),
    ssh: z
      .object({
        user: z
          .string()
          .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a Unix user name' })
          .optional(),
        /** Name of a key in the secret store (`ssh/<name>`), never the key itself. */
        keyName: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'must be a key name like ops-key' })
          .optional(),
      })
      .optional(),
    /** Overrides the environment's install path for this host. */
    installPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]*$/, { message: 'must be an absolute path' })
      .optional(),
    timeouts: z
      .object({
        reporting: durationSchema.default('10 minutes'),
        install: durationSchema.default('20 minutes'),
        retryWindow: durationSchema.default('15 minutes'),
      })
      .default({ reporting: '10 minutes', install: '20 minutes', retryWindow: '15 minutes' }),
    /**
     * Set by EnrollFleet: where to report this host's status changes, and the fleet's install limits,
     * which its install step takes a slot of (the fleet's pool) for the install alone.
     */
    fleet: z
      .object({
        workflowId: z.string().min(1),
        installSlots: z
          .object({ global: z.number().int().positive(), perEnvironment: z.number().int().positive() })
          .optional(),
        /** The environment as the fleet found it onboarded, so the host need not ask again. */
        environment: onboardedEnvironmentSchema.optional(),
      })
      .optional(),
  }),
);

export type HostEnrollmentInput = z.input<typeof hostEnrollmentInputSchema>;
export type HostEnrollmentPlan = z.output<typeof hostEnrollmentInputSchema> & { environmentId: string };

export function planEnrollment(
  input: unknown,
): { ok: true; plan: HostEnrollmentPlan } | { ok: false; message: string } {
  const parsed = hostEnrollmentInputSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      message: parsed.error.issues.map((i) => `${i.path.join('.') || 'input'} ${i.message}`).join('; '),
    };
  }
  return { ok: true, plan: { ...parsed.data, environmentId: environmentIdOf(parsed.data) } };
}

export const enrollmentOutcomeSchema = lazySchema(() => z.enum(['installed', 'upgraded', 'already-enrolled']));
export type EnrollmentOutcome = z.infer<typeof enrollmentOutcomeSchema>;

/** What a HostEnrollment run returns; a contract with every client (docs/contract). */
export const hostEnrollmentResultSchema = lazySchema(() =>
  z.object({
    hostname: z.string(),
    environmentId: z.string(),
    outcome: enrollmentOutcomeSchema,
    version: z.string(),
    previousVersion: z.string().optional(),
    entityId: z.string(),
  }),
);
export type HostEnrollmentResult = z.infer<typeof hostEnrollmentResultSchema>;

/** What a HostEnrollment tells its fleet whenever its state changes. */
export interface HostStatusReport {
  workflowId: string;
  environmentId: string;
  hostname: string;
  status: 'needs-attention' | 'running' | 'done' | 'failed';
  outcome?: EnrollmentOutcome;
  reason?: string;
}
