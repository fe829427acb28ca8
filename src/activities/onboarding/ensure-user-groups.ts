import { log } from '@temporalio/activity';
import { DynatraceApiError, DynatraceFailureType, type UserGroup } from '../../dynatrace/index.js';
import { clusterApi, type DynatraceAccess } from '../dynatrace-access.js';

export interface DesiredGroup {
  name: string;
  permissions: string[];
  ldapGroupNames: string[];
}

export interface EnsuredGroup {
  name: string;
  id: string;
  action: 'created' | 'updated' | 'unchanged';
}

/** Adds this environment to each permission and the LDAP names to the group; takes nothing away. */
function merged(group: UserGroup, desired: DesiredGroup, environmentId: string): UserGroup | undefined {
  const accessRight: Record<string, string[]> = { ...(group.accessRight ?? {}) };
  let changed = false;
  for (const permission of desired.permissions) {
    const environments = accessRight[permission] ?? [];
    if (!environments.includes(environmentId)) {
      accessRight[permission] = [...environments, environmentId];
      changed = true;
    }
  }
  const ldap = [...(group.ldapGroupNames ?? [])];
  for (const name of desired.ldapGroupNames) {
    if (!ldap.includes(name)) {
      ldap.push(name);
      changed = true;
    }
  }
  return changed ? { ...group, accessRight, ldapGroupNames: ldap } : undefined;
}

export function createEnsureUserGroups(deps: { dynatrace: DynatraceAccess }) {
  /**
   * Groups are matched by name (group creation is not idempotent, 406 on a duplicate name) and a
   * customer's groups are shared by its stages: rights on this environment are merged into what the
   * group already grants elsewhere, never overwritten.
   */
  return async function ensureUserGroups(input: {
    environmentId: string;
    groups: DesiredGroup[];
    /** The cluster by its configured name; absent: the only one. */
    cluster?: string;
  }): Promise<EnsuredGroup[]> {
    const { api: cluster } = clusterApi(deps.dynatrace, input.cluster);
    let existing = await cluster.listGroups();
    const results: EnsuredGroup[] = [];
    for (const desired of input.groups) {
      let group = existing.find((g) => g.name === desired.name);
      if (!group) {
        try {
          group = await cluster.createGroup({
            name: desired.name,
            ldapGroupNames: desired.ldapGroupNames,
            accessRight: Object.fromEntries(desired.permissions.map((p) => [p, [input.environmentId]])),
          });
          results.push({ name: group.name, id: group.id, action: 'created' });
          continue;
        } catch (err) {
          // Another run created it between our list and our create: take it from here.
          if (!(err instanceof DynatraceApiError && err.type === DynatraceFailureType.conflict)) throw err;
          existing = await cluster.listGroups();
          group = existing.find((g) => g.name === desired.name);
          if (!group) throw err;
        }
      }
      const update = merged(group, desired, input.environmentId);
      if (update) await cluster.updateGroup(update);
      results.push({ name: group.name, id: group.id, action: update ? 'updated' : 'unchanged' });
    }
    log.info('User groups ensured', { environmentId: input.environmentId, groups: results });
    return results;
  };
}
