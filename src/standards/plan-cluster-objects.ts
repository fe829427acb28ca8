import type { Environment, UserGroup } from '../dynatrace/cluster-api.js';
import type { FieldDifference, PlannedAction, StandardMode } from '../shared/standards.js';
import type { DesiredGroup, DesiredQuotas } from './desired-objects.js';

export interface ClusterObjectPlan {
  standard: string;
  mode: StandardMode;
  object: string;
  action: Extract<PlannedAction, 'create' | 'update' | 'unchanged' | 'refused'>;
  differences: FieldDifference[];
  error?: string;
}

/**
 * A user group is shared by the environments that name it (a customer's stages): the standard wants
 * the group to exist and to grant its permissions on this environment. What the group grants
 * elsewhere is never taken away, as onboarding does.
 */
export function planGroup(
  desired: DesiredGroup,
  environmentId: string,
  groups: readonly UserGroup[],
): ClusterObjectPlan {
  const base = { standard: desired.standard, mode: desired.mode, object: `user group "${desired.group.name}"` };
  const group = groups.find((g) => g.name === desired.group.name);
  if (!group) {
    return {
      ...base,
      action: 'create',
      differences: [
        { field: 'permissions', new: desired.group.permissions },
        ...(desired.group.ldapGroupNames.length > 0
          ? [{ field: 'ldapGroupNames', new: desired.group.ldapGroupNames }]
          : []),
      ],
    };
  }
  const granted = desired.group.permissions.filter((p) => (group.accessRight?.[p] ?? []).includes(environmentId));
  const missing = desired.group.permissions.filter((p) => !granted.includes(p));
  const ldap = group.ldapGroupNames ?? [];
  const missingLdap = desired.group.ldapGroupNames.filter((n) => !ldap.includes(n));
  const differences: FieldDifference[] = [
    ...(missing.length > 0 ? [{ field: 'permissions', old: granted, new: desired.group.permissions }] : []),
    ...(missingLdap.length > 0 ? [{ field: 'ldapGroupNames', old: ldap, new: [...ldap, ...missingLdap] }] : []),
  ];
  return { ...base, action: differences.length > 0 ? 'update' : 'unchanged', differences };
}

/** The limits an environment's quota object holds; an absent limit is unlimited. */
const limitOf = (environment: Environment, quota: string, limit: string): number | null => {
  const value = (environment.quotas?.[quota] as Record<string, unknown> | undefined)?.[limit];
  return typeof value === 'number' ? value : null;
};

/** Only the limits the standard names are compared; the rest of the environment's quotas are not ours. */
export function planQuotas(desired: DesiredQuotas, environment: Environment | undefined): ClusterObjectPlan {
  const base = { standard: desired.standard, mode: desired.mode, object: 'environment quotas' };
  if (!environment) {
    return {
      ...base,
      action: 'refused',
      differences: [],
      error: 'quotas are set through a Managed cluster, and this environment is not on one',
    };
  }
  const differences: FieldDifference[] = [];
  for (const [quota, limits] of Object.entries(desired.quotas)) {
    for (const [limit, wanted] of Object.entries(limits)) {
      const current = limitOf(environment, quota, limit);
      if (current !== wanted) differences.push({ field: `${quota}.${limit}`, old: current, new: wanted });
    }
  }
  return { ...base, action: differences.length > 0 ? 'update' : 'unchanged', differences };
}

/**
 * The quota objects to PUT: each one the standard names is sent whole, the limits it does not name
 * kept as they are, since an omitted limit inside a sent quota object becomes unlimited (§1.4).
 */
export function quotasToSend(desired: DesiredQuotas, environment: Environment): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(desired.quotas).map(([quota, limits]) => {
      const current = { ...((environment.quotas?.[quota] as Record<string, unknown> | undefined) ?? {}) };
      // Usage figures are the cluster's to report, not ours to send.
      for (const key of Object.keys(current)) if (!/Limit$/.test(key)) delete current[key];
      return [quota, { ...current, ...limits }];
    }),
  );
}
