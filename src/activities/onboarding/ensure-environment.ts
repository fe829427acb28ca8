import { log } from '@temporalio/activity';
import type { Environment } from '../../dynatrace/index.js';
import type { EnvironmentDifference, EnvironmentField } from '../../shared/onboarding.js';
import { clusterApi, type DynatraceAccess } from '../dynatrace-access.js';

export interface EnsureEnvironmentInput {
  environmentId: string;
  name: string;
  tags: string[];
  quotas?: { hostUnits?: number; demUnitsPerMonth?: number; davisDataUnitsPerMonth?: number };
  /** Fields of an existing environment this run may change; the others are kept as the cluster has them. */
  overwrite?: EnvironmentField[];
  /** The cluster by its configured name; absent: the only one. */
  cluster?: string;
  /** Whose environment it is, for the registry (absent in runs started before the registry). */
  customer?: string;
  stage?: string;
}

export interface EnsuredEnvironment {
  environmentId: string;
  url: string;
  created: boolean;
  /** Absent in results recorded before existing environments were compared with the input. */
  state?: 'ENABLED' | 'DISABLED';
  differences?: EnvironmentDifference[];
}

/** Dynatrace quota objects for the limits the input sets; nothing for the ones it leaves out. */
function dynatraceQuotas(quotas: EnsureEnvironmentInput['quotas']): Record<string, unknown> | undefined {
  if (!quotas) return undefined;
  const out: Record<string, unknown> = {};
  if (quotas.hostUnits !== undefined) out.hostUnits = { maxLimit: quotas.hostUnits };
  if (quotas.demUnitsPerMonth !== undefined) out.demUnits = { monthlyLimit: quotas.demUnitsPerMonth };
  if (quotas.davisDataUnitsPerMonth !== undefined) out.davisDataUnits = { monthlyLimit: quotas.davisDataUnitsPerMonth };
  return Object.keys(out).length > 0 ? out : undefined;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

/** Where the existing environment and the input disagree, field by field. */
function differences(
  existing: Environment,
  desired: { name: string; tags: string[]; state: 'ENABLED' },
  overwrite: readonly EnvironmentField[],
): EnvironmentDifference[] {
  const found: EnvironmentDifference[] = [];
  const note = (field: EnvironmentField, inCluster: string, requested: string) =>
    found.push({ field, inCluster, requested, action: overwrite.includes(field) ? 'overwritten' : 'kept' });
  if (existing.name !== desired.name) note('name', existing.name, desired.name);
  const tags = existing.tags ?? [];
  if (!sameSet(tags, desired.tags)) note('tags', tags.join(', ') || '(none)', desired.tags.join(', ') || '(none)');
  const state = existing.state ?? 'ENABLED';
  if (state !== desired.state) note('state', state, desired.state);
  return found;
}

export function createEnsureEnvironment(deps: { dynatrace: DynatraceAccess }) {
  /**
   * PUT with our id: 201 the first time (with the bootstrap token, which goes straight into the
   * secret store). POST would create a second environment on retry. An environment that exists is
   * read first: what operators changed in the cluster (disabled it, edited its tags) is kept and
   * reported unless the input names the field in `overwrite`, and nothing is written when nothing
   * is to change.
   */
  return async function ensureEnvironment(input: EnsureEnvironmentInput): Promise<EnsuredEnvironment> {
    const { name: clusterName, url: clusterUrl, api: cluster } = clusterApi(deps.dynatrace, input.cluster);
    const url = `${clusterUrl.replace(/\/+$/, '')}/e/${encodeURIComponent(input.environmentId)}`;
    const record = () =>
      deps.dynatrace.registry.record({
        id: input.environmentId,
        kind: 'managed',
        cluster: clusterName,
        apiUrl: url,
        source: 'onboarded',
        ...(input.customer ? { customer: input.customer } : {}),
        ...(input.stage ? { stage: input.stage } : {}),
      });
    const quotas = dynatraceQuotas(input.quotas);
    const desired = { name: input.name, tags: input.tags, state: 'ENABLED' as const };
    const overwrite = input.overwrite ?? [];

    const existing = await cluster.getEnvironment(input.environmentId);
    if (existing) {
      const found = differences(existing, desired, overwrite);
      const changes = found.filter((d) => d.action === 'overwritten');
      if (changes.length > 0 || quotas) {
        const take = (field: EnvironmentField) => changes.some((d) => d.field === field);
        // The whole environment is sent: a field left out of a PUT may be reset by the cluster [U].
        await cluster.putEnvironment(input.environmentId, {
          name: take('name') ? desired.name : existing.name,
          tags: take('tags') ? desired.tags : (existing.tags ?? []),
          state: take('state') ? desired.state : (existing.state ?? 'ENABLED'),
          ...(quotas ? { quotas } : {}),
        });
      }
      if (found.length > 0) {
        log.info('Environment differs from the onboarding input', {
          environmentId: input.environmentId,
          differences: found,
        });
      }
      await record();
      const state = changes.some((d) => d.field === 'state') ? desired.state : (existing.state ?? 'ENABLED');
      return { environmentId: input.environmentId, url, created: false, state, differences: found };
    }

    // No bootstrap token (createToken): its token-management token would never expire. Tokens are
    // minted when needed from the cluster token, short-lived (TokenKeeper).
    const result = await cluster.putEnvironment(input.environmentId, { ...desired, ...(quotas ? { quotas } : {}) });
    await record();
    log.info(result.created ? 'Environment created' : 'Environment was created concurrently', {
      environmentId: input.environmentId,
    });
    return { environmentId: input.environmentId, url, created: result.created, state: 'ENABLED', differences: [] };
  };
}
