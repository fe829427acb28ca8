import { settingsValueDifferences } from '../dynatrace/settings-value-match.js';
import type { SettingsObject } from '../dynatrace/settings-api.js';
import type { FieldDifference, PlannedAction, StandardMode } from '../shared/standards.js';
import { standardOfExternalId, type DesiredSettingsObject } from './desired-objects.js';
import { isRefMarker, isSecretMarker } from './placeholders.js';

/** What one settings object of one environment needs, as the plan and the writer both see it. */
export interface SettingsObjectPlan {
  standard: string;
  mode: StandardMode;
  schemaId: string;
  object: string;
  action: Extract<PlannedAction, 'create' | 'update' | 'unchanged' | 'delete' | 'orphan'>;
  desired?: DesiredSettingsObject;
  existing?: SettingsObject;
  differences: FieldDifference[];
}

const oldestFirst = (a: SettingsObject, b: SettingsObject) => (a.created ?? 0) - (b.created ?? 0);

/** `builtin:alerting.profile "Production paging"`: what the object is, in an operator's words. */
function label(schemaId: string, value: Record<string, unknown> | undefined, fallback: string): string {
  const name = [value?.name, value?.displayName].find((v): v is string => typeof v === 'string' && !v.includes('$'));
  return `${schemaId} "${name ?? fallback}"`;
}

/** Markers as people read them in a plan: never a secret's value, a reference by what it names. */
export function displayable(value: unknown, objectIds: ReadonlyMap<string, string> = new Map()): unknown {
  if (isSecretMarker(value)) return `(secret ${value.$secret})`;
  if (isRefMarker(value)) return objectIds.get(value.$ref) ?? `(object of ${value.$ref}, to be created)`;
  if (Array.isArray(value)) return value.map((v) => displayable(v, objectIds));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, displayable(v, objectIds)]));
  }
  return value;
}

/** References replaced by the objectIds known so far; unknown ones stay markers (and so differ). */
export function resolveRefs(value: unknown, objectIds: ReadonlyMap<string, string>): unknown {
  if (isRefMarker(value)) return objectIds.get(value.$ref) ?? value;
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, objectIds));
  if (value && typeof value === 'object' && !isSecretMarker(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, objectIds)]));
  }
  return value;
}

/**
 * Compares what the standards want in one environment with the objects listed there. Only objects
 * that carry one of our external ids are ours: anybody else's are never changed. Ours that no
 * standard wants any more are deleted with `prune`, otherwise reported as orphans.
 */
export function planSettings(
  desired: readonly DesiredSettingsObject[],
  listed: readonly SettingsObject[],
  options: { prune: boolean },
): SettingsObjectPlan[] {
  // Ours: what carries a standard's derived external id, or the external id a standard names.
  const named = new Map(desired.map((d) => [d.externalId, d.standard]));
  const ours = new Map<string, SettingsObject[]>();
  for (const object of [...listed].sort(oldestFirst)) {
    if (standardOfExternalId(object.externalId) === undefined && !named.has(object.externalId ?? '')) continue;
    const list = ours.get(object.externalId!) ?? [];
    list.push(object);
    ours.set(object.externalId!, list);
  }
  const objectIds = new Map<string, string>();
  for (const d of desired) {
    const existing = ours.get(d.externalId)?.[0];
    if (existing) objectIds.set(d.standard, existing.objectId);
  }

  const plans: SettingsObjectPlan[] = desired.map((d) => {
    const existing = ours.get(d.externalId)?.shift();
    const base = { standard: d.standard, mode: d.mode, schemaId: d.schemaId, desired: d };
    if (!existing) {
      return {
        ...base,
        object: label(d.schemaId, d.value, d.standard),
        action: 'create',
        differences: [{ field: '(object)', new: displayable(d.value, objectIds) }],
      };
    }
    const differences = settingsValueDifferences(d.schemaId, existing.value, resolveRefs(d.value, objectIds), {
      unordered: d.unordered,
      uncompared: isSecretMarker,
    }).map((diff) => ({ field: diff.field, old: diff.old, new: displayable(diff.new, objectIds) }));
    return {
      ...base,
      existing,
      object: label(d.schemaId, existing.value, d.standard),
      action: differences.length > 0 ? 'update' : 'unchanged',
      differences,
    };
  });

  // What is left carries our external id but no standard wants it here (any more).
  for (const left of ours.values()) {
    for (const existing of left) {
      const standard = standardOfExternalId(existing.externalId) ?? named.get(existing.externalId!)!;
      plans.push({
        standard,
        mode: 'enforce',
        schemaId: existing.schemaId ?? '(unknown schema)',
        object: label(existing.schemaId ?? '', existing.value, standard),
        action: options.prune ? 'delete' : 'orphan',
        existing,
        differences: [{ field: '(object)', old: existing.value }],
      });
    }
  }
  return plans;
}
