import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '../config/secret.js';
import { OidcVerifier, type OidcIssuer } from './oidc-verifier.js';

export type CodecAuthResult = { ok: true; subject: string } | { ok: false; reason: string };

export interface CodecAuthOptions {
  /** Static bearer token (Temporal CLI `--codec-auth "Bearer …"`, scripts). */
  token?: SecretSource | undefined;
  /** Access tokens the Temporal UI passes on (TEMPORAL_CODEC_PASS_ACCESS_TOKEN), from this issuer, for this audience. */
  oidc?: OidcIssuer | OidcVerifier | undefined;
  /** Only the sandbox: the embedded UI has no login and everything listens on loopback. */
  allowUnauthenticated?: boolean;
}

/** Compares two secrets in constant time, whatever their lengths. */
export const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** The token of an `Authorization: Bearer …` header, if that is what the header holds. */
export const bearerOf = (authorization: string | undefined): string | undefined =>
  /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];

/**
 * Who may see decrypted payloads. A static token or an OIDC access token verified against the
 * issuer's published keys (signature, issuer, audience, expiry); reasons name the check, never the
 * presented credential.
 */
export class CodecAuthenticator {
  readonly #oidc: OidcVerifier | undefined;

  constructor(private readonly options: CodecAuthOptions) {
    if (!options.token && !options.oidc && !options.allowUnauthenticated) {
      throw new Error('the codec server needs AUTOPILOT_CODEC_AUTH_TOKEN or AUTOPILOT_CODEC_OIDC_ISSUER');
    }
    this.#oidc = options.oidc instanceof OidcVerifier || !options.oidc ? options.oidc : new OidcVerifier(options.oidc);
  }

  get required(): boolean {
    return Boolean(this.options.token || this.#oidc) || !this.options.allowUnauthenticated;
  }

  async authenticate(authorization: string | undefined): Promise<CodecAuthResult> {
    if (!this.required) return { ok: true, subject: 'sandbox' };
    const bearer = bearerOf(authorization);
    if (!bearer) return { ok: false, reason: 'missing Authorization: Bearer header' };
    if (this.options.token && sameSecret(bearer, this.options.token.reveal())) return { ok: true, subject: 'token' };
    if (this.#oidc && OidcVerifier.looksLikeJwt(bearer)) {
      const verified = await this.#oidc.verify(bearer);
      if (!verified.ok) return verified;
      return { ok: true, subject: typeof verified.claims.sub === 'string' ? verified.claims.sub : 'oidc' };
    }
    return { ok: false, reason: 'unknown bearer token' };
  }
}
