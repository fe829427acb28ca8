import { log } from '@temporalio/activity';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import type { DynatraceAccess } from '../dynatrace-access.js';

export interface EnsureEnvironmentInput {
  environmentId: string;
  name: string;
  tags: string[];
  quotas?: { hostUnits?: number; demUnitsPerMonth?: number; davisDataUnitsPerMonth?: number };
}

export interface EnsuredEnvironment {
  environmentId: string;
  url: string;
  created: boolean;
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

export function createEnsureEnvironment(deps: { dynatrace: DynatraceAccess; secrets: SecretStore }) {
  /**
   * PUT with our id: 201 the first time (with the bootstrap token, which goes straight into the
   * secret store), 204 on every retry or re-run. POST would create a second environment on retry.
   */
  return async function ensureEnvironment(input: EnsureEnvironmentInput): Promise<EnsuredEnvironment> {
    const { client, clusterToken, clusterUrl } = deps.dynatrace;
    const quotas = dynatraceQuotas(input.quotas);
    const result = await client
      .cluster(clusterToken.reveal())
      .putEnvironment(
        input.environmentId,
        { name: input.name, state: 'ENABLED', tags: input.tags, ...(quotas ? { quotas } : {}) },
        { createToken: true },
      );
    if (result.created && result.tokenManagementToken) {
      await deps.secrets.put(secretRefs.tokenManagementToken(input.environmentId), result.tokenManagementToken, {
        source: 'createToken',
        issuedAt: new Date().toISOString(),
      });
    }
    log.info(result.created ? 'Environment created' : 'Environment already existed', {
      environmentId: input.environmentId,
    });
    return {
      environmentId: input.environmentId,
      url: `${clusterUrl}/e/${encodeURIComponent(input.environmentId)}`,
      created: result.created,
    };
  };
}
