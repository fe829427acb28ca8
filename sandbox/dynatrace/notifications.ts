import type { SimulatorKnobs } from './knobs.js';
import { problemEntities, problemV1, problemV2 } from './problems.js';
import type { EnvironmentRecord, ProblemRecord, SettingsObject } from './state.js';
import type { SimulatorStats } from './stats.js';

export const ALERTING_PROFILE_SCHEMA = 'builtin:alerting.profile';
export const NOTIFICATION_SCHEMA = 'builtin:problem.notifications';

/** The payload template the reference recommends (§6.3). */
export const RECOMMENDED_PAYLOAD =
  '{"State":"{State}","PID":"{PID}","ProblemID":"{ProblemID}","ProblemTitle":"{ProblemTitle}",' +
  '"ProblemImpact":"{ProblemImpact}","ProblemSeverity":"{ProblemSeverity}","ProblemURL":"{ProblemURL}",' +
  '"Tags":"{Tags}","ImpactedEntities":{ImpactedEntities},"ProblemDetailsJSON":{ProblemDetailsJSON}}';

/** Placeholders that expand to JSON and are written unquoted in templates. */
const JSON_PLACEHOLDERS = new Set(['ImpactedEntities', 'ProblemDetailsJSON', 'ProblemDetailsJSONv2']);

export type PlaceholderValues = Record<string, string | object>;

export interface WebhookTarget {
  url: string;
  headers: { name: string; value: string }[];
  payload: string;
}

/**
 * Expands `{Placeholder}`s the way Dynatrace does: string values are JSON-escaped unless a custom
 * Content-Type header turned JSON handling off (reference §6.1).
 */
export function renderPayload(template: string, values: PlaceholderValues, jsonMode: boolean): string {
  return template.replace(/\{([A-Za-z0-9]+)(?:\[([^\]]+)\])?\}/g, (whole, name: string, key?: string) => {
    if (name === 'Tags' && key !== undefined) {
      const tags = values.TagMap as Record<string, string> | undefined;
      if (!tags || !(key in tags)) return whole;
      return jsonMode ? escapeJson(tags[key]!) : tags[key]!;
    }
    const value = values[name];
    if (value === undefined) return whole;
    if (JSON_PLACEHOLDERS.has(name) || typeof value !== 'string') return JSON.stringify(value);
    return jsonMode ? escapeJson(value) : value;
  });
}

function escapeJson(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

export function problemPlaceholders(
  baseUrl: string,
  environment: EnvironmentRecord,
  problem: ProblemRecord,
  state: 'OPEN' | 'RESOLVED',
): PlaceholderValues {
  const host = environment.hosts.get(problem.entityId);
  const tags = (host?.tags ?? []).map(
    (t) =>
      `${t.context === 'CONTEXTLESS' ? '' : `[${t.context}]`}${t.key}${t.value !== undefined ? `:${t.value}` : ''}`,
  );
  const impacted = problemEntities(problem).impacted.map((e) => ({
    type: e.entityId.type,
    name: e.name,
    entity: e.entityId.id,
  }));
  const impactedNames = impacted.map((e) => e.name).join(', ');
  const v1 = problemV1(environment, problem);
  return {
    State: state,
    PID: problem.problemId,
    ProblemID: problem.displayId,
    ProblemTitle: problem.title,
    ProblemImpact: problem.impactLevel === 'SERVICES' ? 'SERVICE' : problem.impactLevel,
    ProblemSeverity: problem.severityLevel,
    ProblemURL: `${baseUrl}/e/${environment.id}/#problems/problemdetails;pid=${problem.problemId}`,
    ImpactedEntity: impactedNames,
    ImpactedEntityNames: impactedNames,
    NamesOfImpactedEntities: impactedNames,
    ImpactedEntities: impacted,
    ProblemDetailsJSON: v1,
    ProblemDetailsJSONv2: problemV2(environment, problem, new Set(['evidenceDetails', 'impactAnalysis']), []),
    ProblemDetailsText: `${problem.title} on ${problem.entityName}`,
    ProblemDetailsHTML: `<h1>${problem.title}</h1><p>${problem.entityName}</p>`,
    ProblemDetailsMarkdown: `# ${problem.title}\n${problem.entityName}`,
    Tags: tags.join(', '),
    TagMap: Object.fromEntries((host?.tags ?? []).map((t) => [t.key, t.value ?? ''])),
  };
}

/** The fixed dummy values of the UI's "Send test notification" button (reference §6.3). */
export function testNotificationPlaceholders(): PlaceholderValues {
  return {
    State: 'OPEN',
    PID: '99999',
    ProblemID: '999',
    ProblemTitle: 'Dynatrace problem notification test run',
    ProblemImpact: 'INFRASTRUCTURE',
    ProblemSeverity: 'AVAILABILITY',
    ProblemURL: 'https://example.com/#problems/problemdetails;pid=99999',
    ImpactedEntity: 'MyHost1, MyService1',
    ImpactedEntityNames: 'MyHost1, MyService1',
    NamesOfImpactedEntities: 'MyHost1, MyService1',
    ImpactedEntities: [
      { type: 'HOST', name: 'MyHost1', entity: 'HOST-XXXXXXXXXXXXX' },
      { type: 'SERVICE', name: 'MyService1', entity: 'SERVICE-XXXXXXXXXXXXX' },
    ],
    ProblemDetailsJSON: { id: '99999' },
    ProblemDetailsJSONv2: { problemId: '99999' },
    ProblemDetailsText: 'Dynatrace problem notification test run details',
    ProblemDetailsHTML: '<h1>Dynatrace problem notification test run details</h1>',
    ProblemDetailsMarkdown: '# Dynatrace problem notification test run details',
    Tags: 'testtag1, testtag2',
    TagMap: {},
  };
}

interface WebhookValue {
  enabled?: boolean;
  type?: string;
  alertingProfile?: string;
  webHookNotification?: {
    url: string;
    notifyClosedProblems?: boolean;
    headers?: { name: string; secret?: boolean; value?: string; secretValue?: string }[];
    payload: string;
  };
}

interface AlertingProfileValue {
  severityRules?: { severityLevel: string; delayInMinutes: number }[];
  eventFilters?: { type: string; predefinedFilter?: { eventType: string; negate?: boolean } }[];
}

export function webhookTarget(object: SettingsObject): WebhookTarget | undefined {
  const value = object.value as WebhookValue;
  if (value.enabled === false || value.type !== 'WEBHOOK' || !value.webHookNotification) return undefined;
  const hook = value.webHookNotification;
  return {
    url: hook.url,
    headers: (hook.headers ?? []).map((h) => ({ name: h.name, value: (h.secret ? h.secretValue : h.value) ?? '' })),
    payload: hook.payload,
  };
}

/** Alerting profiles use `ERRORS` where problems say `ERROR` (reference §8.1). */
const profileSeverity = (severity: string) => (severity === 'ERROR' ? 'ERRORS' : severity);

/** Minutes the profile holds the problem back, or `undefined` when the profile filters it out. */
export function profileDelayMinutes(profile: SettingsObject | undefined, problem: ProblemRecord): number | undefined {
  if (!profile) return undefined;
  const value = profile.value as AlertingProfileValue;
  const rule = (value.severityRules ?? []).find((r) => r.severityLevel === profileSeverity(problem.severityLevel));
  if (!rule) return undefined;
  const filters = (value.eventFilters ?? []).filter((f) => f.type === 'PREDEFINED' && f.predefinedFilter);
  const included = filters.filter((f) => !f.predefinedFilter!.negate);
  const excluded = filters.filter((f) => f.predefinedFilter!.negate);
  if (included.length > 0 && !included.some((f) => f.predefinedFilter!.eventType === problem.alertingEventType))
    return undefined;
  if (excluded.some((f) => f.predefinedFilter!.eventType === problem.alertingEventType)) return undefined;
  return rule.delayInMinutes;
}

export async function postWebhook(
  target: WebhookTarget,
  values: PlaceholderValues,
): Promise<{ status: number | null; error?: string }> {
  const customContentType = target.headers.some((h) => h.name.toLowerCase() === 'content-type');
  const body = renderPayload(target.payload, values, !customContentType);
  const headers: Record<string, string> = customContentType ? {} : { 'Content-Type': 'application/json' };
  for (const h of target.headers) headers[h.name] = h.value;
  try {
    const response = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    return { status: response.status };
  } catch (err) {
    return { status: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Sends problem notifications the way an environment's custom-integration webhook does: after the
 * alerting profile's delay, only if the problem is still open then, and a RESOLVED one later to the
 * integrations that were told about the opening.
 */
export class NotificationDispatcher {
  private readonly pending = new Map<string, NodeJS.Timeout[]>();

  constructor(
    private readonly baseUrl: () => string,
    private readonly knobs: () => SimulatorKnobs,
    private readonly stats: SimulatorStats,
  ) {}

  problemOpened(environment: EnvironmentRecord, problem: ProblemRecord, override?: WebhookTarget): void {
    if (override) {
      void this.send(environment, problem, 'OPEN', override, 'override');
      return;
    }
    for (const object of environment.settings.values()) {
      if (object.schemaId !== NOTIFICATION_SCHEMA) continue;
      const target = webhookTarget(object);
      if (!target) continue;
      const profileId = (object.value as WebhookValue).alertingProfile;
      const delay = profileDelayMinutes(profileId ? environment.settings.get(profileId) : undefined, problem);
      if (delay === undefined) continue;
      const fire = () => {
        if (problem.status !== 'OPEN') return;
        problem.notifiedOpen.push(object.objectId);
        void this.send(environment, problem, 'OPEN', target, object.objectId);
      };
      if (delay === 0) fire();
      else this.schedule(problem.problemId, fire, delay * this.knobs().alertingMinuteMs);
    }
  }

  problemResolved(environment: EnvironmentRecord, problem: ProblemRecord, override?: WebhookTarget): void {
    for (const timer of this.pending.get(problem.problemId) ?? []) clearTimeout(timer);
    this.pending.delete(problem.problemId);
    if (override) {
      void this.send(environment, problem, 'RESOLVED', override, 'override');
      return;
    }
    for (const objectId of problem.notifiedOpen) {
      const object = environment.settings.get(objectId);
      const target = object && webhookTarget(object);
      const notifyClosed = (object?.value as WebhookValue | undefined)?.webHookNotification?.notifyClosedProblems;
      if (target && notifyClosed !== false) void this.send(environment, problem, 'RESOLVED', target, objectId);
    }
  }

  async sendTest(environmentId: string, target: WebhookTarget): Promise<{ status: number | null; error?: string }> {
    const result = await postWebhook(target, testNotificationPlaceholders());
    this.stats.delivery({
      environmentId,
      problemId: '99999',
      state: 'TEST',
      via: 'test',
      url: target.url,
      ...result,
      at: Date.now(),
    });
    return result;
  }

  stop(): void {
    for (const timers of this.pending.values()) for (const t of timers) clearTimeout(t);
    this.pending.clear();
  }

  private schedule(problemId: string, fire: () => void, ms: number): void {
    const timer = setTimeout(() => {
      const timers = this.pending.get(problemId);
      timers?.splice(timers.indexOf(timer), 1);
      fire();
    }, ms);
    timer.unref();
    const timers = this.pending.get(problemId) ?? [];
    timers.push(timer);
    this.pending.set(problemId, timers);
  }

  private async send(
    environment: EnvironmentRecord,
    problem: ProblemRecord,
    state: 'OPEN' | 'RESOLVED',
    target: WebhookTarget,
    via: string,
  ): Promise<void> {
    const result = await postWebhook(target, problemPlaceholders(this.baseUrl(), environment, problem, state));
    this.stats.delivery({
      environmentId: environment.id,
      problemId: problem.problemId,
      state,
      via,
      url: target.url,
      ...result,
      at: Date.now(),
    });
  }
}
