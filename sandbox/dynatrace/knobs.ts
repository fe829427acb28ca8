import { z } from 'zod';

/** Everything a test or benchmark can turn on the simulator, at start or later through /_sim/knobs. */
export const knobsSchema = z.object({
  /** Added to every API request while it holds a capacity slot, like a busy cluster. */
  latencyMs: z.number().min(0).default(0),
  latencyJitterMs: z.number().min(0).default(0),
  /** Per environment, and separately for the cluster API (reference §9.1). */
  throttle: z
    .object({
      maxConcurrent: z.number().int().positive().default(20),
      queueSize: z.number().int().min(0).default(100),
      queueTimeoutMs: z.number().int().positive().default(10_000),
    })
    .default({ maxConcurrent: 20, queueSize: 100, queueTimeoutMs: 10_000 }),
  /** Fractions (0..1) of API requests answered with a fault instead of being served. */
  faults: z
    .object({
      rate500: z.number().min(0).max(1).default(0),
      rate429: z.number().min(0).max(1).default(0),
      rateReset: z.number().min(0).max(1).default(0),
      rateHang: z.number().min(0).max(1).default(0),
      /** How long a hung request stays open before the socket is dropped. */
      hangMs: z.number().int().positive().default(120_000),
      /** Only requests whose route name starts with one of these are faulted (all when empty). */
      routes: z.array(z.string()).default([]),
      /** Only requests to these environments are faulted (all when empty): one sick environment among healthy ones. */
      environments: z.array(z.string()).default([]),
      seed: z.number().int().optional(),
    })
    .default({ rate500: 0, rate429: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [], environments: [] }),
  /** Host names whose agent connect fails, so the installer exits non-zero on them. */
  failInstallHosts: z.array(z.string()).default([]),
  /** Size of the served installer; real ones are ~100 MB, a few KB keeps tests fast. */
  installerSizeBytes: z
    .number()
    .int()
    .min(0)
    .default(64 * 1024),
  /**
   * Serve forged installers, as an attacker between Dynatrace and the worker would: `foreign-signature`
   * signs them with a certificate other than the one `installerCaFile` holds, `altered-after-signing`
   * changes the script after it was signed. Either still has a signature of the right shape.
   */
  installerForgery: z.enum(['none', 'foreign-signature', 'altered-after-signing']).default('none'),
  /** The environment API answers 503 for this long after an environment is created (readiness is [U]). */
  environmentReadyDelayMs: z.number().int().min(0).default(0),
  /** Length of one alerting-profile "minute"; tests shrink it so a 30-minute delay passes quickly. */
  alertingMinuteMs: z.number().int().positive().default(60_000),
  /**
   * Behave like a cluster that predates the Settings 2.0 `externalIds` filter (reference §13): the
   * list ignores it and returns every object of the schema, oldest (the `Default` profile) first.
   */
  settingsIgnoreExternalIdsFilter: z.boolean().default(false),
  /**
   * The simulator's clock runs this far ahead of the real one, for time-skipping tests: token expiry
   * (and the expiry it gives new tokens) follows the simulated day, not the wall clock.
   */
  clockOffsetMs: z.number().int().default(0),
});

export type SimulatorKnobs = z.infer<typeof knobsSchema>;
export type SimulatorKnobsInput = z.input<typeof knobsSchema>;

export function mergeKnobs(current: SimulatorKnobs, patch: unknown): SimulatorKnobs {
  const p = (patch ?? {}) as Record<string, unknown>;
  return knobsSchema.parse({
    ...current,
    ...p,
    throttle: { ...current.throttle, ...((p.throttle as object | undefined) ?? {}) },
    faults: { ...current.faults, ...((p.faults as object | undefined) ?? {}) },
  });
}
