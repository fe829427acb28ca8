import { DEFAULT_WEBHOOK_KEY_HEADER, webhookPath } from '../shared/webhook.js';

/**
 * The placeholders a standard's strings may use, and nothing else: a closed set that is checked
 * before anything runs, so a typo is an error at its line, never a literal `{{ … }}` in a cluster.
 *
 *   {{ environment.id }}  .customer  .stage  .cluster  .kind  .tags (comma-separated)
 *   {{ tag "tier" }}      the value of the environment's `tier:<value>` tag (empty without one)
 *   {{ secret "standards/<name>" }}  a secret stored for standards, by reference (the whole string only;
 *                         see standards-secrets.ts for which references a standard may name)
 *   {{ ref "standard" }}  the objectId of another settings standard's object in the same environment
 *                         (the whole string only; e.g. a notification's alerting profile)
 *   {{ autopilot.webhookUrl }}        this environment's URL at Autopilot's webhook receiver
 *   {{ autopilot.webhookKeyHeader }}  the header Dynatrace sends the webhook key in
 *   {{ autopilot.webhookKeyId }}      a fingerprint of the key (not the key; that is {{ secret "autopilot/webhook-key" }})
 */

export interface PlaceholderEnvironment {
  id: string;
  customer?: string | null | undefined;
  stage?: string | null | undefined;
  cluster?: string | null | undefined;
  kind: 'managed' | 'saas';
  tags: readonly string[];
}

/** What the `autopilot.*` placeholders stand for: this deployment's webhook receiver. */
export interface AutopilotPlaceholders {
  /** The receiver's public base URL; absent when none is configured. */
  webhookPublicUrl?: string | undefined;
  webhookKeyHeader: string;
  webhookKeyId?: string | undefined;
}

/** A secret by reference, resolved only by the activity that writes it. */
export interface SecretMarker {
  $secret: string;
}

/** Another standard's object in the same environment, resolved to its objectId when known. */
export interface RefMarker {
  $ref: string;
}

export const isSecretMarker = (v: unknown): v is SecretMarker =>
  typeof v === 'object' && v !== null && typeof (v as SecretMarker).$secret === 'string';
export const isRefMarker = (v: unknown): v is RefMarker =>
  typeof v === 'object' && v !== null && typeof (v as RefMarker).$ref === 'string';

const PLACEHOLDER = /\{\{\s*(.*?)\s*\}\}/g;
const ENVIRONMENT_FIELDS = ['id', 'customer', 'stage', 'cluster', 'kind', 'tags'] as const;
const AUTOPILOT_FIELDS = ['webhookUrl', 'webhookKeyHeader', 'webhookKeyId'] as const;

type Expression =
  | { type: 'environment'; field: (typeof ENVIRONMENT_FIELDS)[number] }
  | { type: 'autopilot'; field: (typeof AUTOPILOT_FIELDS)[number] }
  | { type: 'tag' | 'secret' | 'ref'; argument: string };

/** Parses one placeholder's inside (`environment.id`, `secret "x"`), or says what is wrong with it. */
function parseExpression(text: string): Expression | string {
  const field = /^environment\.([a-z]+)$/.exec(text);
  if (field) {
    const name = field[1] as (typeof ENVIRONMENT_FIELDS)[number];
    if ((ENVIRONMENT_FIELDS as readonly string[]).includes(name)) return { type: 'environment', field: name };
    return `unknown environment field "${name}" in {{ ${text} }}: use ${ENVIRONMENT_FIELDS.join(', ')}`;
  }
  const own = /^autopilot\.([A-Za-z]+)$/.exec(text);
  if (own) {
    const name = own[1] as (typeof AUTOPILOT_FIELDS)[number];
    if ((AUTOPILOT_FIELDS as readonly string[]).includes(name)) return { type: 'autopilot', field: name };
    return `unknown autopilot field "${name}" in {{ ${text} }}: use ${AUTOPILOT_FIELDS.join(', ')}`;
  }
  const call = /^(tag|secret|ref)\s+"([^"]+)"$/.exec(text);
  if (call) return { type: call[1] as 'tag' | 'secret' | 'ref', argument: call[2]! };
  return `unknown placeholder {{ ${text} }}: use {{ environment.<field> }}, {{ tag "key" }}, {{ secret "ref" }}, {{ ref "standard" }} or {{ autopilot.<field> }}`;
}

interface Found {
  expression: Expression;
  /** The placeholder is the whole string. */
  whole: boolean;
}

function placeholdersIn(text: string): (Found | string)[] {
  const found: (Found | string)[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const expression = parseExpression(match[1]!);
    found.push(typeof expression === 'string' ? expression : { expression, whole: match[0] === text.trim() });
  }
  // A lone `}}` is common in JSON (a webhook payload); a `{{` that opens no placeholder is a typo.
  if (found.length === 0 && text.includes('{{')) found.push('"{{" without a closing "}}"');
  return found;
}

export interface PlaceholderIssue {
  /** Path below the checked value (`webHookNotification.headers[0].secretValue`). */
  path: (string | number)[];
  message: string;
}

/** Where a value is checked: a settings value may use secrets and references, other fields may not. */
export type PlaceholderContext =
  | {
      settingsStandards: ReadonlySet<string>;
      /** Why a standard may not name this secret, or undefined when it may. */
      secretProblem: (ref: string) => string | undefined;
    }
  | { plainOnly: true };

/** The markers rendering leaves for `secret` and `ref`: only the placeholders may make them. */
const MARKER_KEYS = new Set(['$secret', '$ref']);

/**
 * Every mistake in the placeholders of a value: unknown ones, `secret`/`ref` inside a longer string
 * or in a field that cannot take them, references to standards that do not exist, secrets a
 * standard may not name, and the markers of either written out by hand.
 */
export function checkPlaceholders(
  value: unknown,
  context: PlaceholderContext,
  path: (string | number)[] = [],
): PlaceholderIssue[] {
  if (typeof value === 'string') {
    return placeholdersIn(value).flatMap((found): PlaceholderIssue[] => {
      if (typeof found === 'string') return [{ path, message: found }];
      const { expression, whole } = found;
      if (expression.type !== 'secret' && expression.type !== 'ref') return [];
      if ('plainOnly' in context) {
        return [{ path, message: 'may use {{ environment.<field> }} and {{ tag "…" }} only' }];
      }
      if (!whole) {
        return [{ path, message: `{{ ${expression.type} "…" }} must be the whole value, not part of a string` }];
      }
      const secretProblem = expression.type === 'secret' ? context.secretProblem(expression.argument) : undefined;
      if (secretProblem) return [{ path, message: secretProblem }];
      if (expression.type === 'ref' && !context.settingsStandards.has(expression.argument)) {
        return [{ path, message: `{{ ref "${expression.argument}" }} names no settings standard of this folder` }];
      }
      return [];
    });
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => checkPlaceholders(v, context, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      MARKER_KEYS.has(k)
        ? [{ path: [...path, k], message: 'is reserved: write {{ secret "…" }} or {{ ref "…" }} instead' }]
        : checkPlaceholders(v, context, [...path, k]),
    );
  }
  return [];
}

/** The arguments of every `{{ <call> "…" }}` placeholder of one kind in a value. */
function calls(value: unknown, type: 'ref' | 'secret'): string[] {
  if (typeof value === 'string') {
    return placeholdersIn(value).flatMap((f) =>
      typeof f !== 'string' && f.expression.type === type ? [f.expression.argument] : [],
    );
  }
  if (Array.isArray(value)) return value.flatMap((v) => calls(v, type));
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => calls(v, type));
  return [];
}

/** The standards a value refers to with `{{ ref "…" }}`. */
export const referencedStandards = (value: unknown): string[] => calls(value, 'ref');

/** The secrets a value names with `{{ secret "…" }}`. */
export const referencedSecrets = (value: unknown): string[] => calls(value, 'secret');

function environmentField(environment: PlaceholderEnvironment, field: (typeof ENVIRONMENT_FIELDS)[number]): string {
  if (field === 'tags') return environment.tags.join(',');
  return environment[field] ?? '';
}

function autopilotField(
  own: AutopilotPlaceholders | undefined,
  environmentId: string,
  field: (typeof AUTOPILOT_FIELDS)[number],
): string {
  if (field === 'webhookKeyHeader') return own?.webhookKeyHeader ?? DEFAULT_WEBHOOK_KEY_HEADER;
  const value =
    field === 'webhookUrl'
      ? own?.webhookPublicUrl && `${own.webhookPublicUrl}${webhookPath(environmentId)}`
      : own?.webhookKeyId;
  if (!value) {
    throw new Error(
      `{{ autopilot.${field} }} needs Autopilot's webhook receiver: set AUTOPILOT_WEBHOOK_PUBLIC_URL and WEBHOOK_API_KEY`,
    );
  }
  return value;
}

function tagValue(environment: PlaceholderEnvironment, key: string): string {
  const tag = environment.tags.find((t) => t.startsWith(`${key}:`));
  return tag === undefined ? '' : tag.slice(key.length + 1);
}

/**
 * The value for one environment: environment fields filled in, `secret` and `ref` placeholders
 * left as markers (secrets are resolved only where they are written; refs once the object exists).
 */
export function renderPlaceholders(
  value: unknown,
  environment: PlaceholderEnvironment,
  own?: AutopilotPlaceholders,
): unknown {
  if (typeof value === 'string') {
    const [first] = placeholdersIn(value);
    if (first && typeof first !== 'string' && first.whole) {
      const { expression } = first;
      if (expression.type === 'secret') return { $secret: expression.argument } satisfies SecretMarker;
      if (expression.type === 'ref') return { $ref: expression.argument } satisfies RefMarker;
    }
    return value.replace(PLACEHOLDER, (_, inside: string) => {
      const expression = parseExpression(inside);
      if (typeof expression === 'string') throw new Error(expression);
      if (expression.type === 'environment') return environmentField(environment, expression.field);
      if (expression.type === 'autopilot') return autopilotField(own, environment.id, expression.field);
      if (expression.type === 'tag') return tagValue(environment, expression.argument);
      throw new Error(`{{ ${inside} }} must be the whole value`);
    });
  }
  if (Array.isArray(value)) return value.map((v) => renderPlaceholders(v, environment, own));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderPlaceholders(v, environment, own)]));
  }
  return value;
}
