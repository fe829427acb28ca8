import { log } from '@temporalio/activity';
import { collect } from '../../dynatrace/pagination.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import { requireStoredToken, type DynatraceAccess } from '../dynatrace-access.js';

/** Least-scope tokens per purpose (reference §3.3). */
export const TOKEN_PURPOSES = {
  'installer-download': ['InstallerDownload'],
  automation: ['entities.read', 'problems.read', 'problems.write', 'settings.read', 'settings.write', 'DataExport'],
} as const satisfies Record<string, readonly string[]>;

export type TokenPurpose = keyof typeof TOKEN_PURPOSES;

export interface EnsureEnvironmentTokenInput {
  environmentId: string;
  purpose: TokenPurpose;
  validityDays: number;
  rotateBeforeDays: number;
}

export interface EnsuredEnvironmentToken {
  secretRef: string;
  tokenId: string;
  expiresAt: string;
  action: 'reused' | 'created' | 'rotated';
  revoked: number;
}

export function createEnsureEnvironmentToken(deps: { dynatrace: DynatraceAccess; secrets: SecretStore }) {
  /**
   * One token per environment and purpose, held in the secret store. A stored token that is still
   * valid for long enough is reused; otherwise a new one is minted, stored, and then every other
   * token of ours with that purpose is revoked: the one it replaces, and any orphan left by a
   * worker that died between creating a token and storing it.
   */
  return async function ensureEnvironmentToken(input: EnsureEnvironmentTokenInput): Promise<EnsuredEnvironmentToken> {
    const { client } = deps.dynatrace;
    const tmt = await requireStoredToken(
      deps.secrets,
      secretRefs.tokenManagementToken(input.environmentId),
      'token-management token',
    );
    const tokens = client.environment(input.environmentId, tmt).tokens;
    const ref = secretRefs.environmentToken(input.environmentId, input.purpose);
    const name = `dynatrace-autopilot-${input.purpose}`;
    const scopes: readonly string[] = TOKEN_PURPOSES[input.purpose];
    const rotateBeforeMs = input.rotateBeforeDays * 86_400_000;

    const stored = await deps.secrets.get(ref);
    const storedId = stored?.metadata.tokenId;
    const current = storedId ? await tokens.get(storedId) : undefined;
    const currentExpiry = current?.expirationDate ? Date.parse(current.expirationDate) : Infinity;
    const ours = (await collect(tokens.list())).filter((t) => t.name === name);

    if (
      current &&
      current.enabled !== false &&
      scopes.every((s) => current.scopes?.includes(s)) &&
      currentExpiry - Date.now() > rotateBeforeMs
    ) {
      const revoked = await revokeAll(ours.filter((t) => t.id !== current.id));
      return {
        secretRef: ref,
        tokenId: current.id,
        expiresAt: stored!.metadata.expiresAt ?? 'never',
        action: 'reused',
        revoked,
      };
    }

    const expiresAt = new Date(Date.now() + input.validityDays * 86_400_000);
    const created = await tokens.create({ name, scopes: [...scopes], expirationDate: expiresAt });
    await deps.secrets.put(ref, created.token, {
      tokenId: created.id,
      expiresAt: expiresAt.toISOString(),
      scopes: scopes.join(','),
    });
    const revoked = await revokeAll(ours.filter((t) => t.id !== created.id));
    log.info(current ? 'Environment token rotated' : 'Environment token created', {
      environmentId: input.environmentId,
      purpose: input.purpose,
      tokenId: created.id,
      revoked,
    });
    return {
      secretRef: ref,
      tokenId: created.id,
      expiresAt: expiresAt.toISOString(),
      action: current ? 'rotated' : 'created',
      revoked,
    };

    async function revokeAll(stale: { id: string }[]): Promise<number> {
      let count = 0;
      for (const t of stale) if (await tokens.revoke(t.id)) count++;
      return count;
    }
  };
}
