import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ALERTING_PROFILE_SCHEMA,
  NOTIFICATION_SCHEMA,
  renderPayload,
  testNotificationPlaceholders,
} from './notifications.js';
import type { EnvironmentRecord, SettingsObject } from './state.js';

const severity = z.enum([
  'AVAILABILITY',
  'CUSTOM_ALERT',
  'ERRORS',
  'MONITORING_UNAVAILABLE',
  'PERFORMANCE',
  'RESOURCE_CONTENTION',
]);

const alertingProfile = z.object({
  name: z.string().min(1, 'must not be empty').max(100, 'must have at most 100 characters'),
  managementZone: z.string().nullish(),
  severityRules: z
    .array(
      z.object({
        severityLevel: severity,
        delayInMinutes: z.number().int().min(0).max(10_000),
        tagFilterIncludeMode: z.enum(['NONE', 'INCLUDE_ANY', 'INCLUDE_ALL']),
        tagFilter: z.array(z.unknown()).optional(),
      }),
    )
    .default([]),
  eventFilters: z
    .array(
      z.object({
        type: z.enum(['PREDEFINED', 'CUSTOM']),
        predefinedFilter: z.object({ eventType: z.string().min(1), negate: z.boolean().default(false) }).optional(),
        customFilter: z.unknown().optional(),
      }),
    )
    .default([]),
});

const header = z
  .object({
    name: z.string().min(1, 'must not be empty').max(500, 'must have at most 500 characters'),
    secret: z.boolean().default(false),
    value: z.string().optional(),
    secretValue: z.string().optional(),
  })
  .refine((h) => (h.secret ? h.secretValue !== undefined : h.value !== undefined), {
    message: 'a secret header needs secretValue, a plain one value',
  });

const notification = z.object({
  enabled: z.boolean(),
  type: z.enum([
    'WEBHOOK',
    'EMAIL',
    'SLACK',
    'JIRA',
    'ANSIBLETOWER',
    'OPS_GENIE',
    'PAGER_DUTY',
    'VICTOROPS',
    'SERVICE_NOW',
    'XMATTERS',
    'TRELLO',
  ]),
  displayName: z.string().min(1, 'must not be empty'),
  alertingProfile: z.string().min(1, 'must not be empty'),
  webHookNotification: z
    .object({
      url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
      acceptAnyCertificate: z.boolean().default(false),
      notifyEventMergesEnabled: z.boolean().default(false),
      notifyClosedProblems: z.boolean().default(true),
      headers: z.array(header).default([]),
      payload: z.string().min(1).max(5000, 'must have at most 5000 characters'),
      useOAuth2: z.boolean().optional(),
      secretUrl: z.string().optional(),
    })
    .optional(),
});

export const MANAGEMENT_ZONE_SCHEMA = 'builtin:management-zones';
export const AUTO_TAGGING_SCHEMA = 'builtin:tags.auto-tagging';

/** A missing required property is reported like the server does, not as zod's type mismatch. */
const required = {
  error: (issue: { input: unknown }) =>
    issue.input === undefined || issue.input === null ? 'must not be null' : undefined,
};

const attributeRule = z.object({
  entityType: z.enum(
    [
      'HOST',
      'SERVICE',
      'PROCESS_GROUP',
      'APPLICATION',
      'WEB_APPLICATION',
      'CLOUD_APPLICATION',
      'KUBERNETES_CLUSTER',
      'HTTP_CHECK',
      'CUSTOM_DEVICE',
    ],
    required,
  ),
  conditions: z
    .array(
      z.object({
        key: z.string(required),
        operator: z.enum(['EQUALS', 'BEGINS_WITH', 'CONTAINS', 'EXISTS', 'REGEX_MATCHES'], required),
        stringValue: z.string().optional(),
        caseSensitive: z.boolean().default(true),
      }),
      required,
    )
    .min(1, 'must contain at least 1 element'),
  hostToPGPropagation: z.boolean().default(true),
  serviceToHostPropagation: z.boolean().default(false),
  serviceToPGPropagation: z.boolean().default(false),
});

/**
 * The schemas make `entitySelector` and `attributeRule` depend on the rule's `type` (a
 * precondition, not a plain required flag), so zod's shape alone would accept a rule without them.
 */
const ruleTypePreconditions = (
  rule: { type: string; entitySelector?: string; attributeRule?: unknown },
  ctx: z.RefinementCtx,
): void => {
  if (rule.type === 'SELECTOR' && !rule.entitySelector?.trim()) {
    ctx.addIssue({ code: 'custom', path: ['entitySelector'], message: 'must not be empty when type is SELECTOR' });
  }
  if (rule.type === 'ME' && rule.attributeRule === undefined) {
    ctx.addIssue({ code: 'custom', path: ['attributeRule'], message: 'must not be null when type is ME' });
  }
};

const managementZone = z.object({
  name: z.string(required).min(1, 'must not be empty').max(500, 'must have at most 500 characters'),
  description: z.string().nullable().default(null),
  rules: z
    .array(
      z
        .object({
          enabled: z.boolean().default(true),
          type: z.enum(['ME', 'SELECTOR', 'DIMENSION'], required),
          entitySelector: z.string().optional(),
          attributeRule: attributeRule.optional(),
        })
        .superRefine(ruleTypePreconditions),
    )
    .default([]),
});

const autoTagging = z.object({
  name: z.string(required).min(1, 'must not be empty').max(200, 'must have at most 200 characters'),
  description: z.string().nullable().default(null),
  rules: z
    .array(
      z
        .object({
          enabled: z.boolean().default(true),
          type: z.enum(['ME', 'SELECTOR'], required),
          valueFormat: z.string().nullable().default(null),
          valueNormalization: z
            .enum(['Leave text as-is', 'To lower case', 'To upper case'])
            .default('Leave text as-is'),
          entitySelector: z.string().optional(),
          attributeRule: attributeRule.optional(),
        })
        .superRefine(ruleTypePreconditions),
    )
    .default([]),
});

export const SCHEMAS: Record<string, { version: string; schema: z.ZodType<Record<string, unknown>> }> = {
  [ALERTING_PROFILE_SCHEMA]: { version: '8.6.3', schema: alertingProfile },
  [NOTIFICATION_SCHEMA]: { version: '1.7.4', schema: notification },
  [MANAGEMENT_ZONE_SCHEMA]: { version: '1.0.6', schema: managementZone },
  [AUTO_TAGGING_SCHEMA]: { version: '1.0.3', schema: autoTagging },
};

/** The built-in profile every environment has; its name is protected (reference §13). */
export const DEFAULT_PROFILE_NAME = 'Default';

/** Paths (`*` = every element) of the set-typed properties of each schema, per the TF schema files. */
const SET_TYPED: Record<string, string[]> = {
  [ALERTING_PROFILE_SCHEMA]: ['severityRules', 'eventFilters', 'severityRules.*.tagFilter'],
  [NOTIFICATION_SCHEMA]: ['webHookNotification.headers'],
  [MANAGEMENT_ZONE_SCHEMA]: ['rules', 'rules.*.attributeRule.conditions'],
  [AUTO_TAGGING_SCHEMA]: ['rules', 'rules.*.attributeRule.conditions'],
};

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

/**
 * Sort key of a set element: name, severity level or filter/rule type first, then the whole
 * element, so elements that tie on the first key (two `ME` rules, conditions) still land in one
 * order that does not depend on the order they were sent in.
 */
const setOrderKey = (item: unknown): string[] => {
  if (typeof item !== 'object' || item === null) return [text(item).toLowerCase()];
  const o = item as Record<string, unknown>;
  const predefined = o.predefinedFilter as { eventType?: unknown } | undefined;
  return [text(o.name ?? o.severityLevel ?? o.type).toLowerCase(), text(predefined?.eventType), JSON.stringify(item)];
};

const compareKeys = (a: string[], b: string[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

function reorder(value: unknown, path: string[], sets: string[]): unknown {
  const here = path.join('.');
  if (Array.isArray(value)) {
    const items = value.map((v) => reorder(v, [...path, '*'], sets));
    return sets.includes(here) ? items.sort((a, b) => compareKeys(setOrderKey(a), setOrderKey(b))) : items;
  }
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reorder(v, [...path, k], sets)]));
}

/**
 * Set-typed properties come back in the server's own order, not the order they were sent in
 * (reference §13): here sorted by name (headers), severity level, filter or rule type, as a set
 * serialised by a sorted store would. Clients must compare them order-insensitively.
 */
export function inServerOrder(schemaId: string, value: Record<string, unknown>): Record<string, unknown> {
  const sets = SET_TYPED[schemaId];
  return sets ? (reorder(value, [], sets) as Record<string, unknown>) : value;
}

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Validation beyond the shape: references to other objects and a payload that renders to JSON. */
export function crossCheck(
  environment: EnvironmentRecord,
  schemaId: string,
  value: Record<string, unknown>,
): SchemaIssue[] {
  if (schemaId !== NOTIFICATION_SCHEMA) return [];
  const issues: SchemaIssue[] = [];
  const profile = environment.settings.get(String(value.alertingProfile));
  if (!profile || profile.schemaId !== ALERTING_PROFILE_SCHEMA) {
    issues.push({ path: 'alertingProfile', message: 'must reference an existing alerting profile' });
  }
  const hook = value.webHookNotification as { payload: string; headers: { name: string }[] } | undefined;
  if (value.type === 'WEBHOOK' && !hook) issues.push({ path: 'webHookNotification', message: 'must not be null' });
  if (hook && !hook.headers.some((h) => h.name.toLowerCase() === 'content-type')) {
    try {
      JSON.parse(renderPayload(hook.payload, testNotificationPlaceholders(), true));
    } catch {
      issues.push({ path: 'webHookNotification.payload', message: 'the rendered payload is not valid JSON' });
    }
  }
  return issues;
}

export function newObjectId(schemaId: string): string {
  return Buffer.from(`${schemaId}\u0000environment\u0000${randomUUID()}`).toString('base64url');
}

/** Every environment starts with the built-in Default profile, which holds resource-contention 30 min. */
export function defaultAlertingProfile(): SettingsObject {
  const now = Date.now();
  return {
    objectId: newObjectId(ALERTING_PROFILE_SCHEMA),
    schemaId: ALERTING_PROFILE_SCHEMA,
    schemaVersion: SCHEMAS[ALERTING_PROFILE_SCHEMA]!.version,
    scope: 'environment',
    value: {
      name: DEFAULT_PROFILE_NAME,
      managementZone: null,
      severityRules: [
        { severityLevel: 'AVAILABILITY', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' },
        { severityLevel: 'ERRORS', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' },
        { severityLevel: 'PERFORMANCE', delayInMinutes: 30, tagFilterIncludeMode: 'NONE' },
        { severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 30, tagFilterIncludeMode: 'NONE' },
        { severityLevel: 'CUSTOM_ALERT', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' },
        { severityLevel: 'MONITORING_UNAVAILABLE', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' },
      ],
      eventFilters: [],
    },
    created: now,
    modified: now,
    updateToken: randomUUID(),
  };
}

/** Secret header values are write-only: reads never return them. */
export function readableValue(object: SettingsObject): Record<string, unknown> {
  if (object.schemaId !== NOTIFICATION_SCHEMA) return object.value;
  const hook = object.value.webHookNotification as { headers?: { secret?: boolean }[] } | undefined;
  if (!hook?.headers) return object.value;
  return {
    ...object.value,
    webHookNotification: {
      ...hook,
      headers: hook.headers.map((h) => {
        if (!h.secret) return h;
        const { secretValue: _hidden, ...rest } = h as { secretValue?: string };
        return rest;
      }),
    },
  };
}
