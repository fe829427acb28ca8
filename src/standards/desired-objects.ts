import { createHash } from 'node:crypto';
import { parseEnvironmentSelector, selects, type SelectableEnvironment } from '../shared/environment-selector.js';
import type {
  QuotasStandard,
  SettingsStandard,
  Standard,
  StandardMode,
  StandardsSet,
  UserGroupBody,
  UserGroupStandard,
} from '../shared/standards.js';
import {
  renderPlaceholders,
  referencedStandards,
  type AutopilotPlaceholders,
  type PlaceholderEnvironment,
} from './placeholders.js';

/** Every external id of a declared standard's object starts so: what carries it is Autopilot's. */
export const STANDARD_EXTERNAL_ID_PREFIX = 'autopilot:standard:';

/**
 * The same object has the same external id in every environment, derived from the standard's name
 * and its scope: a run finds its objects without any state of its own, and a retried create is a
 * 409 instead of a second object.
 */
export function standardExternalId(standardName: string, scope: string): string {
  const digest = createHash('sha256').update(`${standardName}\u0000${scope}`).digest('hex').slice(0, 16);
  return `${STANDARD_EXTERNAL_ID_PREFIX}${standardName}:${digest}`;
}

/** The standard an external id of ours belongs to, or undefined for anybody else's. */
export function standardOfExternalId(externalId: string | undefined): string | undefined {
  if (!externalId?.startsWith(STANDARD_EXTERNAL_ID_PREFIX)) return undefined;
  return externalId.slice(STANDARD_EXTERNAL_ID_PREFIX.length).split(':')[0];
}

export interface DesiredSettingsObject {
  standard: string;
  mode: StandardMode;
  schemaId: string;
  scope: string;
  externalId: string;
  /** With `{ $secret }` and `{ $ref }` markers where the standard used those placeholders. */
  value: Record<string, unknown>;
  unordered: string[];
  /** Standards whose objects this one refers to: they are written first. */
  refersTo: string[];
}

export interface DesiredGroup {
  standard: string;
  mode: StandardMode;
  group: UserGroupBody;
}

export interface DesiredQuotas {
  standard: string;
  mode: StandardMode;
  quotas: Record<string, Record<string, number | null>>;
}

export interface DesiredObjects {
  settings: DesiredSettingsObject[];
  groups: DesiredGroup[];
  quotas: DesiredQuotas[];
  /** Standards that target the environment but cannot be rendered for it, and why. */
  errors: { standard: string; error: string }[];
}

export type StandardsEnvironment = SelectableEnvironment & PlaceholderEnvironment;

/** A registry record as selectors and placeholders see it. */
export const standardsEnvironment = (e: {
  id: string;
  kind: 'managed' | 'saas';
  customer?: string;
  stage?: string;
  cluster?: string;
  tags: readonly string[];
}): StandardsEnvironment => ({
  id: e.id,
  kind: e.kind,
  customer: e.customer ?? null,
  stage: e.stage ?? null,
  cluster: e.cluster ?? null,
  tags: e.tags,
});

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Mappings merge key by key; lists, scalars and null replace. */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isMapping(base) || !isMapping(patch)) return patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) merged[k] = deepMerge(base[k], v);
  return merged;
}

/** Standards compiled once per set: selectors parsed, so thousands of environments cost no re-parsing. */
export class CompiledStandards {
  private readonly compiled: {
    standard: Standard;
    selector: ReturnType<typeof parseEnvironmentSelector>;
    overrides: { selector: ReturnType<typeof parseEnvironmentSelector>; index: number }[];
  }[];

  constructor(readonly set: StandardsSet) {
    this.compiled = dependencyOrder(set.standards).map((standard) => ({
      standard,
      selector: parseEnvironmentSelector(standard.environments),
      overrides: standard.overrides.map((o, index) => ({ selector: parseEnvironmentSelector(o.environments), index })),
    }));
  }

  /** The settings schemas the set declares objects of. */
  get schemaIds(): string[] {
    return [...new Set(this.set.standards.flatMap((s) => (s.kind === 'settings' ? [s.settings.schemaId] : [])))].sort();
  }

  targets(environment: SelectableEnvironment): boolean {
    return this.compiled.some((c) => selects(c.selector, environment));
  }

  /** What the standards want in one environment, with its fields filled in and overrides applied. */
  desiredFor(environment: StandardsEnvironment, own?: AutopilotPlaceholders): DesiredObjects {
    const desired: DesiredObjects = { settings: [], groups: [], quotas: [], errors: [] };
    for (const { standard, selector, overrides } of this.compiled) {
      if (!selects(selector, environment)) continue;
      const applying = overrides
        .filter((o) => selects(o.selector, environment))
        .map((o) => standard.overrides[o.index]!);
      const mode = applying.reduce<StandardMode>((m, o) => o.mode ?? m, standard.mode);
      try {
        switch (standard.kind) {
          case 'settings':
            desired.settings.push(settingsObject(standard, applying, mode, environment, own));
            break;
          case 'user-group':
            desired.groups.push(userGroup(standard, applying, mode, environment));
            break;
          case 'environment-quotas':
            desired.quotas.push(quotas(standard, applying, mode));
            break;
        }
      } catch (err) {
        desired.errors.push({ standard: standard.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return desired;
  }
}

function settingsObject(
  standard: SettingsStandard,
  overrides: SettingsStandard['overrides'],
  mode: StandardMode,
  environment: StandardsEnvironment,
  own: AutopilotPlaceholders | undefined,
): DesiredSettingsObject {
  const value = overrides.reduce<unknown>((v, o) => (o.value ? deepMerge(v, o.value) : v), standard.settings.value);
  const scope = String(renderPlaceholders(standard.settings.scope, environment));
  return {
    standard: standard.name,
    mode,
    schemaId: standard.settings.schemaId,
    scope,
    externalId: standard.externalId
      ? String(renderPlaceholders(standard.externalId, environment))
      : standardExternalId(standard.name, scope),
    value: renderPlaceholders(value, environment, own) as Record<string, unknown>,
    unordered: standard.unordered,
    refersTo: [...new Set(referencedStandards(value))],
  };
}

function userGroup(
  standard: UserGroupStandard,
  overrides: UserGroupStandard['overrides'],
  mode: StandardMode,
  environment: StandardsEnvironment,
): DesiredGroup {
  const group = overrides.reduce<unknown>((g, o) => (o.group ? deepMerge(g, o.group) : g), standard.group);
  return { standard: standard.name, mode, group: renderPlaceholders(group, environment) as UserGroupBody };
}

function quotas(standard: QuotasStandard, overrides: QuotasStandard['overrides'], mode: StandardMode): DesiredQuotas {
  const merged = overrides.reduce<unknown>((q, o) => (o.quotas ? deepMerge(q, o.quotas) : q), standard.quotas);
  return { standard: standard.name, mode, quotas: merged as DesiredQuotas['quotas'] };
}

/** Standards another refers to come before it (the folder was checked for cycles when it was loaded). */
function dependencyOrder(standards: readonly Standard[]): Standard[] {
  const byName = new Map(standards.map((s) => [s.name, s]));
  const ordered: Standard[] = [];
  const placed = new Set<string>();
  const place = (s: Standard, trail: Set<string>) => {
    if (placed.has(s.name) || trail.has(s.name)) return;
    trail.add(s.name);
    if (s.kind === 'settings') {
      const refs = [s.settings.value, ...s.overrides.map((o) => o.value)].flatMap(referencedStandards);
      for (const ref of refs) {
        const target = byName.get(ref);
        if (target) place(target, trail);
      }
    }
    placed.add(s.name);
    ordered.push(s);
  };
  for (const s of standards) place(s, new Set());
  return ordered;
}
