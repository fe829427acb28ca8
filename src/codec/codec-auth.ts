import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { SecretSource } from '../config/secret.js';

export type CodecAuthResult = { ok: true; subject: string } | { ok: false; reason: string };

export interface CodecAuthOptions {
  /** Static bearer token (Temporal CLI `--codec-auth "Bearer …"`, scripts). */
  token?: SecretSource | undefined;
  /** Access tokens the Temporal UI passes on (TEMPORAL_CODEC_PASS_ACCESS_TOKEN), from this issuer. */
  oidc?: { issuer: string; audience?: string | undefined } | undefined;
  /** Only the sandbox: the embedded UI has no login and everything listens on loopback. */
  allowUnauthenticated?: boolean;
  /** What the refusal to start without any of them says (the codec server's variables by default). */
  required?: string;
}

const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * Who may see decrypted payloads. A static token or an OIDC access token verified against the
 * issuer's published keys (signature, issuer, audience, expiry); reasons name the check, never the
 * presented credential.
 */
export class CodecAuthenticator {
  #jwks: JWTVerifyGetKey | undefined;

  constructor(private readonly options: CodecAuthOptions) {
    if (!options.token && !options.oidc && !options.allowUnauthenticated) {
      throw new Error(
        options.required ?? 'the codec server needs AUTOPILOT_CODEC_AUTH_TOKEN or AUTOPILOT_CODEC_OIDC_ISSUER',
      );
    }
  }

  get required(): boolean {
    return Boolean(this.options.token || this.options.oidc) || !this.options.allowUnauthenticated;
  }

  async authenticate(authorization: string | undefined): Promise<CodecAuthResult> {
    if (!this.required) return { ok: true, subject: 'sandbox' };
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!bearer) return { ok: false, reason: 'missing Authorization: Bearer header' };
    if (this.options.token && sameSecret(bearer, this.options.token.reveal())) return { ok: true, subject: 'token' };
    if (this.options.oidc && bearer.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(bearer, await this.keys(), {
          issuer: this.options.oidc.issuer,
          ...(this.options.oidc.audience ? { audience: this.options.oidc.audience } : {}),
          algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
        });
        return { ok: true, subject: typeof payload.sub === 'string' ? payload.sub : 'oidc' };
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERR_JWT_INVALID';
        return { ok: false, reason: `access token rejected (${code})` };
      }
    }
    return { ok: false, reason: 'unknown bearer token' };
  }

  private async keys(): Promise<JWTVerifyGetKey> {
    if (this.#jwks) return this.#jwks;
    const issuer = this.options.oidc!.issuer;
    const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw Object.assign(new Error('OIDC discovery failed'), { code: 'ERR_OIDC_DISCOVERY' });
    const discovery = (await response.json()) as { jwks_uri?: unknown; issuer?: unknown };
    if (typeof discovery.jwks_uri !== 'string' || discovery.issuer !== issuer) {
      throw Object.assign(new Error('OIDC discovery document does not match the issuer'), {
        code: 'ERR_OIDC_DISCOVERY',
      });
    }
    this.#jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    return this.#jwks;
  }
}
