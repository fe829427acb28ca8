import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { addressSchema, hostEnrollmentInputSchema, hostnameSchema } from './enrollment.js';
import { onboardCustomerInputSchema } from './onboarding.js';
import { AUTOPILOT_PHASES } from './phases.js';

export const enrollFleetWorkflowId = (inventoryRef: string) =>
  `enroll-fleet:${inventoryRef.replace(/^sha256:/, '').slice(0, 16)}`;

/** One inventory row: hostname, address, customer, stage, os (and optionally an SSH port). */
export const fleetHostSchema = lazySchema(() =>
  z.object({
    hostname: hostnameSchema,
    address: addressSchema,
    customer: onboardCustomerInputSchema.shape.customer,
    stage: onboardCustomerInputSchema.shape.stage,
    os: z.literal('linux', { message: 'only linux hosts are supported' }),
    port: z.number().int().min(1).max(65535).optional(),
  }),
);
export type FleetHost = z.infer<typeof fleetHostSchema>;

export const enrollFleetInputSchema = lazySchema(() =>
  z.object({
    /** Where the validated inventory lives (the inventory store); 12,000 hosts do not fit a workflow input. */
    inventoryRef: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    totalHosts: z.number().int().positive(),
    concurrency: z
      .object({
        /** Hosts installing at once, in the whole fleet and in one environment. */
        global: z.number().int().min(1).max(5000).default(100),
        perEnvironment: z.number().int().min(1).max(1000).default(10),
        /** Environments being onboarded at once (in inventory order), so the first are ready in seconds. */
        onboarding: z.number().int().min(1).max(500).default(20),
      })
      .default({ global: 100, perEnvironment: 10, onboarding: 20 }),
    /** As for one host: the hosts' workers are asked first, and a refused executor fails the fleet. */
    executor: z.enum(['ssh', 'local']).optional(),
    ssh: hostEnrollmentInputSchema.shape.ssh,
    timeouts: hostEnrollmentInputSchema.shape.timeouts.optional(),
    /** Hosts read from the inventory at a time. */
    pageSize: z.number().int().min(10).max(2000).default(500),
    /** The run continues as new once its history has this many events. */
    historyLimit: z.number().int().min(200).max(40_000).default(8_000),
    /** The task queue its hosts' enrollments and its environments' onboardings run on (unset: the fleet's own). */
    hostTaskQueue: z.string().min(1).max(1000).optional(),
  }),
);
export type EnrollFleetInput = z.input<typeof enrollFleetInputSchema>;

export const environmentTallySchema = lazySchema(() =>
  z.object({
    total: z.number(),
    done: z.number(),
    running: z.number(),
    needsAttention: z.number(),
    failed: z.number(),
    installed: z.number(),
    upgraded: z.number(),
    alreadyEnrolled: z.number(),
  }),
);
export type EnvironmentTally = z.infer<typeof environmentTallySchema>;

export const fleetIssueSchema = lazySchema(() =>
  z.object({
    hostname: z.string(),
    environmentId: z.string(),
    workflowId: z.string(),
    reason: z.string(),
  }),
);
export type FleetIssue = z.infer<typeof fleetIssueSchema>;

/** The `fleetProgress` query of an EnrollFleet run; with `finishedAt`, its result. */
export const fleetProgressSchema = lazySchema(() =>
  z.object({
    phase: z.enum(AUTOPILOT_PHASES),
    total: z.number(),
    started: z.number(),
    done: z.number(),
    running: z.number(),
    needsAttention: z.number(),
    failed: z.number(),
    perEnvironment: z.record(z.string(), environmentTallySchema),
    /** Runs of this fleet so far (it continues as new to keep each history bounded). */
    runs: z.number(),
    startedAt: z.string(),
    attention: z.array(fleetIssueSchema),
    failures: z.array(fleetIssueSchema),
  }),
);
export type FleetProgress = z.infer<typeof fleetProgressSchema>;

export const fleetReportSchema = lazySchema(() => fleetProgressSchema.extend({ finishedAt: z.string() }));
export type FleetReport = z.infer<typeof fleetReportSchema>;
