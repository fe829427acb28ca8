import { z } from 'zod';
import { parseEnvironmentSelector, SelectorError } from '../shared/environment-selector.js';
import { GROUP_PERMISSIONS } from '../shared/onboarding.js';

/** A standard's name: it is part of object ids and drift records, so it stays short and plain. */
export const STANDARD_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** `builtin:alerting.profile`, `app:my.app:setting`. */
const SCHEMA_ID = /^[a-z][a-z0-9-]*(:[A-Za-z0-9._-]+)+$/;
/** `environment`, an entity id (`HOST_GROUP-0123456789ABCDEF`), or a placeholder that renders to one. */
const SCOPE = /^(environment|[A-Z][A-Z0-9_]*-[0-9A-F]{16}|.*\{\{.+\}\}.*)$/;

/** Quota objects of the cluster v2 environment (reference §1.4); each holds limits (null: unlimited). */
export const QUOTA_NAMES = [
  'hostUnits',
  'demUnits',
  'userSessions',
  'syntheticMonitors',
  'davisDataUnits',
  'logMonitoring',
  'customMetrics',
  'sessionProperties',
] as const;

const selectorText = z
  .string()
  .min(1, 'must be a selector such as *-p* or customer:abc')
  .superRefine((text, ctx) => {
    try {
      parseEnvironmentSelector(text);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      ctx.addIssue({ code: 'custom', message: `is not a valid selector: ${err.message}` });
    }
  });

const mode = z.enum(['enforce', 'report'], { message: 'must be enforce or report' });
const mapping = z.record(z.string(), z.unknown(), { message: 'must be a mapping' });

const quotaLimits = z.record(
  z.string().regex(/^[a-zA-Z]+$/, 'must be a limit name such as maxLimit or monthlyLimit'),
  z.number().int().min(0).nullable(),
  { message: 'must be a mapping of limits (a number, or null for unlimited)' },
);
const quotas = z
  .partialRecord(z.enum(QUOTA_NAMES, { message: `must be one of ${QUOTA_NAMES.join(', ')}` }), quotaLimits)
  .refine((q) => Object.keys(q).length > 0, 'must name at least one quota');

const groupBody = z
  .object({
    name: z.string().min(1, 'must not be empty').max(200),
    permissions: z
      .array(z.enum(GROUP_PERMISSIONS, { message: `must be one of ${GROUP_PERMISSIONS.join(', ')}` }))
      .min(1, 'must grant at least one permission'),
    ldapGroupNames: z.array(z.string().min(1)).default([]),
  })
  .strict();

const common = {
  name: z.string().regex(STANDARD_NAME, 'must be lowercase letters, digits and "-" (at most 63), e.g. paging-profile'),
  description: z.string().optional(),
  environments: selectorText.default('*'),
  mode: mode.default('enforce'),
};

const override = <T extends z.ZodRawShape>(body: T) =>
  z.object({ environments: selectorText, mode: mode.optional(), ...body }).strict();

const settingsDocument = z
  .object({
    ...common,
    kind: z.literal('settings'),
    schemaId: z.string().regex(SCHEMA_ID, 'must be a settings schema id such as builtin:alerting.profile'),
    scope: z
      .string()
      .regex(SCOPE, 'must be environment or an entity id such as HOST_GROUP-0123456789ABCDEF')
      .default('environment'),
    value: mapping,
    unordered: z
      .array(z.string().regex(/^[A-Za-z0-9_]+(\.([A-Za-z0-9_]+|\*))*$/, 'must be a property path'))
      .default([]),
    /** Takes over an object that already carries this external id (e.g. onboarding's own); may use placeholders. */
    externalId: z.string().min(1).max(400, 'must have at most 400 characters').optional(),
    overrides: z.array(override({ value: mapping })).default([]),
  })
  .strict();

const userGroupDocument = z
  .object({
    ...common,
    kind: z.literal('user-group'),
    group: groupBody,
    overrides: z.array(override({ group: groupBody.partial() })).default([]),
  })
  .strict();

const quotasDocument = z
  .object({
    ...common,
    kind: z.literal('environment-quotas'),
    quotas,
    overrides: z.array(override({ quotas })).default([]),
  })
  .strict();

export const standardDocument = z.discriminatedUnion('kind', [settingsDocument, userGroupDocument, quotasDocument], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be settings, user-group or environment-quotas' : undefined),
});
export type StandardDocument = z.infer<typeof standardDocument>;

/** `autopilot-standards.yaml` at the folder's root: what holds for the whole folder. */
export const FOLDER_SETTINGS_FILE = 'autopilot-standards.yaml';
export const folderSettingsDocument = z
  .object({
    prune: z.boolean({ message: 'must be true or false' }).default(false),
  })
  .strict();
