import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DynatraceApiError } from '../../dynatrace/errors.js';
import type { ApiTokensApi } from '../../dynatrace/api-tokens-api.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { DueEnvironment, EnvironmentMaintenance, MaintenancePage } from '../../shared/maintenance.js';
import { TOKEN_PURPOSES, type RegisteredEnvironment, type TokenPurpose } from '../../shared/registry.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { heartbeatWhile } from '../heartbeat-while.js';

export interface MaintenanceDeps {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
  maintenance: { scopeCheckHours: number };
}

const DAY_MS = 86_400_000;

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const { registry, keeper, tokenPolicy, environments } = deps.dynatrace;

  /** Which environments have something due as of `asOf`: the registry alone, no Dynatrace call. */
  async function planMaintenance(input: { asOf: string; after?: string; limit: number }): Promise<MaintenancePage> {
    const due = await registry.dueForMaintenance(
      new Date(input.asOf),
      {
        rotateBeforeMs: tokenPolicy.rotateBeforeDays * DAY_MS,
        scopeCheckMs: deps.maintenance.scopeCheckHours * 3_600_000,
      },
      { ...(input.after ? { after: input.after } : {}), limit: input.limit },
    );
    const page: DueEnvironment[] = due.map((d) => ({
      environmentId: d.environmentId,
      rotate: [...new Set(d.expiring.map((t) => t.purpose))],
      revoke: d.toRevoke.map((t) => t.tokenId),
      scopeCheck: d.scopeCheck,
    }));
    return { due: page, ...(page.length === input.limit ? { after: page.at(-1)!.environmentId } : {}) };
  }

  /**
   * Does what is due in each environment with one short-lived token-management token: rotates
   * expiring tokens (the replaced one stays valid for its grace), revokes replaced tokens whose
   * grace is over and orphans of ours, and re-checks the scopes of the current tokens. A failure in
   * one environment is reported for it and puts it in NeedsAttention; the others go on.
   */
  async function maintainEnvironments(input: {
    asOf: string;
    due: DueEnvironment[];
  }): Promise<EnvironmentMaintenance[]> {
    const asOf = new Date(input.asOf);
    return heartbeatWhile({ batch: input.due[0]?.environmentId }, async () => {
      const results: EnvironmentMaintenance[] = [];
      for (const due of input.due) results.push(await maintainOne(due, asOf));
      return results;
    });
  }

  async function maintainOne(planned: DueEnvironment, asOf: Date): Promise<EnvironmentMaintenance> {
    const result: EnvironmentMaintenance = {
      environmentId: planned.environmentId,
      outcome: 'maintained',
      rotated: [],
      revoked: [],
      orphansRevoked: [],
      scopesChecked: false,
    };
    const environment = await registry.get(planned.environmentId);
    if (!environment) return { ...result, reason: 'no longer in the registry' };
    // What is due is read again from the record: a retried activity does not redo what it did.
    const due = stillDue(environment, asOf);
    if (due.rotate.length === 0 && due.revoke.length === 0 && !due.scopeCheck) return result;
    try {
      if (environment.kind !== 'managed' || environment.cluster === undefined) {
        return await handedOver(environment, due, asOf, result);
      }
      await keeper.withTokenManagement(environment, async (tokens) => {
        let current = environment;
        for (const purpose of due.rotate) {
          const minted = await keeper.mint(current, purpose, tokens, {
            policy: tokenPolicy,
            asOf,
            reason: 'maintenance: expiring',
          });
          result.rotated.push({
            purpose,
            tokenId: minted.tokenId,
            ...(minted.replaced ? { replaced: minted.replaced } : {}),
          });
          current = (await registry.get(environment.id)) ?? current;
        }
        for (const tokenId of due.revoke) {
          await keeper.revoke(tokenId, tokens, asOf);
          result.revoked.push(tokenId);
        }
        if (due.scopeCheck) {
          current = (await registry.get(environment.id)) ?? current;
          result.orphansRevoked = await keeper.revokeOrphans(current, tokens, asOf);
          const missing = await missingScopes(current, tokens);
          result.scopesChecked = true;
          await registry.scopesChecked(environment.id, asOf, missing);
          if (missing) Object.assign(result, { outcome: 'needs-attention', reason: missing });
        }
      });
      environments.forget(environment.id);
      return result;
    } catch (err) {
      // Throttling and outages are retried by Temporal (what was done is not redone, see stillDue).
      if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
      const reason = err.message;
      await registry.needsAttention(environment.id, reason);
      log.warn('Maintenance of an environment needs attention', { environmentId: environment.id, reason });
      return { ...result, outcome: 'needs-attention', reason };
    }
  }

  function stillDue(environment: RegisteredEnvironment, asOf: Date): DueEnvironment {
    const now = asOf.getTime();
    const checked = environment.scopesCheckedAt ? Date.parse(environment.scopesCheckedAt) : 0;
    return {
      environmentId: environment.id,
      rotate: environment.tokens
        .filter(
          (t) =>
            t.state === 'current' &&
            t.mintedByUs &&
            t.expiresAt !== undefined &&
            Date.parse(t.expiresAt) - now <= tokenPolicy.rotateBeforeDays * DAY_MS,
        )
        .map((t) => t.purpose),
      revoke: environment.tokens
        .filter((t) => t.state === 'superseded' && t.revokeAfter !== undefined && Date.parse(t.revokeAfter) <= now)
        .map((t) => t.tokenId),
      scopeCheck: now - checked >= deps.maintenance.scopeCheckHours * 3_600_000,
    };
  }

  /**
   * The current tokens' scopes against what their purposes need, by looking each one up. Returns the
   * reason naming the token and the scope, or undefined when every token has what it needs.
   */
  async function missingScopes(environment: RegisteredEnvironment, tokens: ApiTokensApi): Promise<string | undefined> {
    const problems: string[] = [];
    for (const purpose of Object.keys(TOKEN_PURPOSES) as TokenPurpose[]) {
      const token = environment.tokens.find((t) => t.purpose === purpose && t.state === 'current');
      if (!token) continue;
      const secret = await deps.secrets.get(token.secretRef);
      if (!secret) {
        problems.push(`the ${purpose} token is missing from the secret store (${token.secretRef})`);
        continue;
      }
      const metadata = await tokens.lookup(secret.value).catch((err: unknown) => {
        if (err instanceof DynatraceApiError && (err.status === 404 || err.status === 400)) return undefined;
        throw err;
      });
      if (!metadata) {
        problems.push(`the ${purpose} token ${token.tokenId} is unknown to Dynatrace`);
        continue;
      }
      const lacking = TOKEN_PURPOSES[purpose].filter((s) => !(metadata.scopes ?? []).includes(s));
      if (lacking.length > 0) problems.push(`the ${purpose} token ${token.tokenId} lacks ${lacking.join(', ')}`);
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  /** An environment whose tokens an operator handed us: we cannot rotate them, only warn in time. */
  async function handedOver(
    environment: RegisteredEnvironment,
    due: DueEnvironment,
    asOf: Date,
    result: EnvironmentMaintenance,
  ): Promise<EnvironmentMaintenance> {
    const expiring = environment.tokens.filter(
      (t) =>
        t.state === 'current' &&
        t.expiresAt &&
        Date.parse(t.expiresAt) - asOf.getTime() < tokenPolicy.rotateBeforeDays * DAY_MS,
    );
    const reason =
      expiring.length > 0
        ? `${expiring.map((t) => `the ${t.purpose} token ${t.tokenId} expires ${t.expiresAt}`).join('; ')}: Autopilot cannot mint tokens here; replace it with \`autopilot environments add\``
        : undefined;
    if (due.scopeCheck || reason) await registry.scopesChecked(environment.id, asOf, reason);
    return {
      ...result,
      scopesChecked: due.scopeCheck,
      ...(reason ? { outcome: 'needs-attention' as const, reason } : {}),
    };
  }

  return { planMaintenance, maintainEnvironments };
}
