import type { JWTPayload } from 'jose';
import { bearerOf, sameSecret } from '../codec/codec-auth.js';
import { OidcVerifier, type OidcIssuer } from '../codec/oidc-verifier.js';
import type { SecretSource } from '../config/secret.js';

/** What a credential may do at the fleet server: read (page, status, events, metrics, GET) or also write. */
export type FleetRole = 'reader' | 'writer';

/** How a caller proved who it is. */
export type FleetCredential = 'token' | 'oidc' | 'session' | 'sandbox';

export type FleetAuthResult =
  { ok: true; subject: string; role: FleetRole; via: FleetCredential } | { ok: false; reason: string };

export interface FleetOidc extends OidcIssuer {
  /** A claim name, or a dotted path into nested claims (`realm_access.roles`). */
  writerClaim: string;
  /** Values of that claim that make a writer. */
  writers: readonly string[];
}

export interface FleetAuthOptions {
  /** Reads only. */
  readToken?: SecretSource | undefined;
  /** Reads and writes. */
  writeToken?: SecretSource | undefined;
  oidc?: (FleetOidc & { verifier?: OidcVerifier }) | undefined;
  /** Only the sandbox, on loopback: no credential, and whoever reaches it may write. */
  allowUnauthenticated?: boolean;
}

/** Where a writer's claim values are: the claim of that name, else the dotted path into nested claims. */
function claimValues(claims: JWTPayload, claim: string): string[] {
  let value: unknown = claims[claim];
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | null)?.[key], claims);
  }
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Who may use the fleet server, and for what. Two static tokens, one that reads and one that also
 * writes, or OIDC access tokens for the fleet server's audience, writers by a claim's value. Every
 * job has its own credential: the token that shows the status page cannot change an environment.
 */
export class FleetAuthenticator {
  readonly #oidc: (FleetOidc & { verifier: OidcVerifier }) | undefined;

  constructor(private readonly options: FleetAuthOptions) {
    if (!options.readToken && !options.writeToken && !options.oidc && !options.allowUnauthenticated) {
      throw new Error(
        'the fleet server needs AUTOPILOT_FLEET_READ_TOKEN and AUTOPILOT_FLEET_WRITE_TOKEN, or AUTOPILOT_FLEET_OIDC_ISSUER',
      );
    }
    this.#oidc = options.oidc && {
      ...options.oidc,
      verifier: options.oidc.verifier ?? new OidcVerifier(options.oidc),
    };
  }

  /** No credential at all (the sandbox): everyone on loopback is a writer. */
  get open(): boolean {
    return !this.options.readToken && !this.options.writeToken && !this.#oidc;
  }

  /** What a refused write should tell the caller to use instead. */
  get writerHint(): string {
    const ways = [
      ...(this.options.writeToken ? ['the write token (AUTOPILOT_FLEET_WRITE_TOKEN)'] : []),
      ...(this.#oidc && this.#oidc.writers.length > 0
        ? [`an OIDC token whose ${this.#oidc.writerClaim} claim names a writer (AUTOPILOT_FLEET_OIDC_WRITERS)`]
        : []),
    ];
    return ways.length > 0 ? ways.join(' or ') : 'a write credential, and this fleet server has none configured';
  }

  /** The static token of a role: the key its browser sessions are signed with. */
  tokenOf(role: FleetRole): SecretSource | undefined {
    return role === 'writer' ? this.options.writeToken : this.options.readToken;
  }

  /** The role a static token grants, if it is one of ours. */
  tokenRole(token: string): FleetRole | undefined {
    // Both are compared, so the time taken does not say which one matched.
    const writer = this.options.writeToken ? sameSecret(token, this.options.writeToken.reveal()) : false;
    const reader = this.options.readToken ? sameSecret(token, this.options.readToken.reveal()) : false;
    return writer ? 'writer' : reader ? 'reader' : undefined;
  }

  async authenticate(authorization: string | undefined): Promise<FleetAuthResult> {
    if (this.open) return { ok: true, subject: 'sandbox', role: 'writer', via: 'sandbox' };
    const bearer = bearerOf(authorization);
    if (!bearer) return { ok: false, reason: 'missing Authorization: Bearer header' };
    const role = this.tokenRole(bearer);
    if (role) return { ok: true, subject: `${role === 'writer' ? 'write' : 'read'} token`, role, via: 'token' };
    if (this.#oidc && OidcVerifier.looksLikeJwt(bearer)) {
      const verified = await this.#oidc.verifier.verify(bearer);
      if (!verified.ok) return verified;
      const writer = claimValues(verified.claims, this.#oidc.writerClaim).some((v) => this.#oidc!.writers.includes(v));
      const subject = typeof verified.claims.sub === 'string' ? verified.claims.sub : 'oidc';
      return { ok: true, subject, role: writer ? 'writer' : 'reader', via: 'oidc' };
    }
    return { ok: false, reason: 'unknown bearer token' };
  }
}
