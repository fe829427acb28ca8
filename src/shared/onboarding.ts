import { CLUSTER_NAME } from './environments.js';
import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { environmentIdOf } from './environment-id.js';

export const ONBOARD_CUSTOMER = 'OnboardCustomer';

/** One run per environment: a second start attaches to the running one. */
export const onboardWorkflowId = (environmentId: string) => `onboard:${environmentId}`;

export const GROUP_PERMISSIONS = [
  'VIEWER',
  'MANAGE_SETTINGS',
  'AGENT_INSTALL',
  'LOG_VIEWER',
  'VIEW_SENSITIVE_REQUEST_DATA',
  'CONFIGURE_REQUEST_CAPTURE_DATA',
  'REPLAY_SESSION_DATA',
  'REPLAY_SESSION_DATA_WITHOUT_MASKING',
  'MANAGE_SECURITY_PROBLEMS',
  'MANAGE_SUPPORT_TICKETS',
] as const;

export const ADMIN_PERMISSIONS = ['VIEWER', 'MANAGE_SETTINGS', 'AGENT_INSTALL', 'LOG_VIEWER'] as const;
export const VIEWER_PERMISSIONS = ['VIEWER'] as const;

/** The fields of an environment that operators may change in the cluster console. */
export const ENVIRONMENT_FIELDS = ['name', 'tags', 'state'] as const;
export type EnvironmentField = (typeof ENVIRONMENT_FIELDS)[number];

/** A field where the cluster and the onboarding input disagree, and what the run did about it. */
export const environmentDifferenceSchema = lazySchema(() =>
  z.object({
    field: z.enum(ENVIRONMENT_FIELDS),
    inCluster: z.string(),
    requested: z.string(),
    action: z.enum(['kept', 'overwritten']),
  }),
);
export type EnvironmentDifference = z.infer<typeof environmentDifferenceSchema>;

/** `5 seconds`, `2m`, `1 hour`: the Temporal duration strings the timeouts accept. */
export const durationSchema = lazySchema(() =>
  z.string().regex(/^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/, {
    message: 'must be a duration like "30 seconds" or "5m"',
  }),
);

const groupSchema = lazySchema(() =>
  z.object({
    name: z.string().min(1).max(200),
    permissions: z.array(z.enum(GROUP_PERMISSIONS)).min(1, 'a group needs at least one permission'),
    ldapGroupNames: z.array(z.string().min(1)).default([]),
  }),
);

export const onboardCustomerInputSchema = lazySchema(() =>
  z.object({
    customer: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, {
      message: 'must be 1-32 lowercase letters, digits or "-" (e.g. abc)',
    }),
    stage: z.string().regex(/^[a-z0-9]{1,16}$/, { message: 'must be 1-16 lowercase letters or digits (e.g. p1)' }),
    /** The Managed cluster by its configured name (AUTOPILOT_CLUSTERS_FILE); absent: the only one. */
    cluster: z
      .string()
      // A copy: zod resets the lastIndex of the RegExp it is given, and the workflow sandbox
      // freezes exported ones (workflows/preloaded-modules.ts).
      .regex(new RegExp(CLUSTER_NAME), { message: 'must be a cluster name: lowercase letters, digits or "-"' })
      .optional(),
    // The cluster refuses longer names (Environment.name maxLength 100, reference §13).
    displayName: z.string().min(1).max(100, "must have at most 100 characters (the cluster's limit)").optional(),
    tags: z.array(z.string().min(1).max(100, 'a tag has at most 100 characters')).max(50).optional(),
    /**
     * What a re-run may change in an environment that exists. Without it, a name, tags or state
     * that operators changed in the cluster are kept and reported, never overwritten.
     */
    overwrite: z.array(z.enum(ENVIRONMENT_FIELDS)).default([]),
    /** Sent only when given: a licence without a feature rejects its quota (reference §1.4). */
    quotas: z
      .object({
        hostUnits: z.number().int().positive().optional(),
        demUnitsPerMonth: z.number().int().positive().optional(),
        davisDataUnitsPerMonth: z.number().int().positive().optional(),
      })
      .optional(),
    /** Defaults: `<customer>-admins` (settings, agent install, logs) and `<customer>-viewers`. */
    groups: z.array(groupSchema).max(20).optional(),
    /** LDAP groups mapped onto the default groups. */
    ldapGroups: z
      .object({ admins: z.array(z.string().min(1)).default([]), viewers: z.array(z.string().min(1)).default([]) })
      .optional(),
    /** What every host enrolled into this environment gets. */
    enrollment: z
      .object({
        // The installer's rules (reference §13): the set-host-group character set, no `dt.` prefix.
        hostGroup: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1-100 letters, digits, ".", "_" or "-"' })
          .refine((g) => !g.toLowerCase().startsWith('dt.'), { message: 'must not start with "dt." (reserved)' })
          .optional(),
        monitoringMode: z.enum(['fullstack', 'infra-only', 'discovery']).default('fullstack'),
        hostTags: z
          .record(
            z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, {
              message: 'a tag key must be 1-100 letters, digits, ".", "_" or "-"',
            }),
            z
              .string()
              .max(256, 'a tag value has at most 256 characters')
              .regex(/^[^=\s]*$/, { message: 'a tag value must not contain "=" or whitespace' }),
          )
          .default({}),
        installPath: z
          .string()
          .regex(/^\/[A-Za-z0-9._/-]*$/, { message: 'must be an absolute path' })
          .optional(),
        arch: z.enum(['x86', 'arm', 'ppcle', 's390']).default('x86'),
      })
      .default({ monitoringMode: 'fullstack', hostTags: {}, arch: 'x86' }),
    tokens: z
      .object({
        installerValidityDays: z.number().int().min(1).max(365).default(30),
        rotateBeforeDays: z.number().int().min(0).max(364).default(7),
      })
      .default({ installerValidityDays: 30, rotateBeforeDays: 7 }),
    /** Tuning for slow clusters: one API call's time limit, and how long a step retries before it asks a human. */
    timeouts: z
      .object({ apiCall: durationSchema.default('1 minute'), retryWindow: durationSchema.default('15 minutes') })
      .default({ apiCall: '1 minute', retryWindow: '15 minutes' }),
  }),
);

export type OnboardCustomerInput = z.input<typeof onboardCustomerInputSchema>;

export interface OnboardingPlan extends z.output<typeof onboardCustomerInputSchema> {
  environmentId: string;
  environmentName: string;
  environmentTags: string[];
  userGroups: { name: string; permissions: string[]; ldapGroupNames: string[] }[];
  hostGroup: string;
}

/** Validates the input and resolves every default into the plan the workflow executes. */
export function planOnboarding(input: unknown): { ok: true; plan: OnboardingPlan } | { ok: false; message: string } {
  const parsed = onboardCustomerInputSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      message: parsed.error.issues.map((i) => `${i.path.join('.') || 'input'} ${i.message}`).join('; '),
    };
  }
  const v = parsed.data;
  const environmentId = environmentIdOf(v);
  if (v.tokens.rotateBeforeDays >= v.tokens.installerValidityDays) {
    return { ok: false, message: 'tokens.rotateBeforeDays must be smaller than tokens.installerValidityDays' };
  }
  const userGroups = v.groups ?? [
    { name: `${v.customer}-admins`, permissions: [...ADMIN_PERMISSIONS], ldapGroupNames: v.ldapGroups?.admins ?? [] },
    {
      name: `${v.customer}-viewers`,
      permissions: [...VIEWER_PERMISSIONS],
      ldapGroupNames: v.ldapGroups?.viewers ?? [],
    },
  ];
  return {
    ok: true,
    plan: {
      ...v,
      environmentId,
      environmentName: v.displayName ?? `${v.customer.toUpperCase()} ${v.stage}`,
      environmentTags: v.tags ?? [`customer:${v.customer}`, `stage:${v.stage}`, 'managed-by:dynatrace-autopilot'],
      userGroups,
      hostGroup: v.enrollment.hostGroup ?? environmentId,
    },
  };
}

export const enrollmentSettingsSchema = lazySchema(() =>
  z.object({
    environmentId: z.string(),
    hostGroup: z.string(),
    monitoringMode: z.enum(['fullstack', 'infra-only', 'discovery']),
    hostTags: z.record(z.string(), z.string()),
    installPath: z.string().optional(),
    arch: z.string(),
  }),
);
export type EnrollmentSettings = z.infer<typeof enrollmentSettingsSchema>;

/** What an OnboardCustomer run returns; a contract with every client (docs/contract). */
export const onboardCustomerResultSchema = lazySchema(() =>
  z.object({
    environmentId: z.string(),
    environmentUrl: z.string(),
    createdEnvironment: z.boolean(),
    /** What differs between the existing environment and this input (kept unless `overwrite` names it). */
    environmentDifferences: z.array(environmentDifferenceSchema),
    groups: z.array(z.object({ name: z.string(), id: z.string(), action: z.string() })),
    installer: z
      .object({
        version: z.string(),
        sha256: z.string(),
        size: z.number(),
        fileName: z.string(),
        signature: z.string(),
      })
      .optional(),
    /** References into the secret store, never values. */
    secrets: z.object({
      tokenManagement: z.string().optional(),
      installerDownload: z.string().optional(),
      automation: z.string().optional(),
    }),
    notifications: z.object({
      status: z.enum(['configured', 'updated', 'unchanged', 'skipped']),
      detail: z.string(),
    }),
    enrollment: enrollmentSettingsSchema,
    skippedSteps: z.array(z.string()),
  }),
);
export type OnboardCustomerResult = z.infer<typeof onboardCustomerResultSchema>;
