import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '../config/secret.js';
import type { FleetRole } from './fleet-auth.js';

const LIFETIME_MS = 12 * 3_600_000;
const MAX_REVOKED = 10_000;

/** One browser's sign-in: who it is (by an id of its own), what it may do, and until when. */
export interface FleetSession {
  id: string;
  role: FleetRole;
  expires: number;
}

export interface FleetSessionOptions {
  /** The static token a session of that role proves was known; a token change ends its sessions. */
  keyOf: (role: FleetRole) => SecretSource | undefined;
  /** The fleet server is reached over https: the cookie is `Secure` (and `__Host-` prefixed). */
  secure: boolean;
  lifetimeMs?: number;
  /** Signed-out sessions remembered at most; beyond it every session ends at once. */
  maxRevoked?: number;
}

/**
 * A browser's sign-in to the status page with a static token. The cookie holds the role, the expiry
 * and an id, signed with the role's token and a key of this process, never the token itself: it
 * proves the token was known, carries what that token may do, and dies with a token change or a
 * restart. Signing out puts the id on a revocation list kept until the cookie would have expired,
 * so a copy of the cookie replayed later is refused too. The list is bounded: should it fill with
 * live sessions, the process key is replaced, which ends every session at once.
 */
export class FleetSessions {
  readonly cookieName: string;
  readonly lifetimeMs: number;
  #processKey = randomBytes(32);
  readonly #revoked = new Map<string, number>();
  readonly #maxRevoked: number;

  constructor(private readonly options: FleetSessionOptions) {
    // `__Host-` cookies are only accepted over https, from this host, for every path.
    this.cookieName = options.secure ? '__Host-autopilot_fleet_session' : 'autopilot_fleet_session';
    this.lifetimeMs = options.lifetimeMs ?? LIFETIME_MS;
    this.#maxRevoked = options.maxRevoked ?? MAX_REVOKED;
  }

  /** How many signed-out sessions are remembered now. */
  get revokedCount(): number {
    return this.#revoked.size;
  }

  /** A new session of `role` and the `Set-Cookie` value that hands it to the browser. */
  issue(role: FleetRole, now = Date.now()): { session: FleetSession; setCookie: string } {
    const session: FleetSession = { id: randomBytes(16).toString('base64url'), role, expires: now + this.lifetimeMs };
    const value = `${role}.${session.expires}.${session.id}.${this.sign(session)}`;
    return { session, setCookie: this.cookie(value, Math.floor(this.lifetimeMs / 1000)) };
  }

  /** The `Set-Cookie` value that removes the cookie from the browser. */
  clearCookie(): string {
    return this.cookie('', 0);
  }

  /** The session a request's cookie proves, unless it is forged, expired, signed out or of a changed token. */
  verify(cookieHeader: string | undefined, now = Date.now()): FleetSession | undefined {
    const value = cookieHeader
      ?.split(/;\s*/)
      .find((c) => c.startsWith(`${this.cookieName}=`))
      ?.slice(this.cookieName.length + 1);
    if (!value) return undefined;
    const [role, expires, id, signature, ...rest] = value.split('.');
    if (rest.length > 0 || (role !== 'reader' && role !== 'writer') || !expires || !id || !signature) return undefined;
    if (!/^\d{1,15}$/.test(expires) || Number(expires) < now || !/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const session: FleetSession = { id, role, expires: Number(expires) };
    const expected = this.sign(session);
    if (expected === undefined) return undefined;
    const given = Buffer.from(signature);
    if (given.length !== Buffer.byteLength(expected) || !timingSafeEqual(Buffer.from(expected), given))
      return undefined;
    if (this.#revoked.has(id)) return undefined;
    return session;
  }

  /** Signs a session out for good: its cookie is refused from now on, wherever it is replayed from. */
  revoke(session: FleetSession, now = Date.now()): void {
    for (const [id, expires] of this.#revoked) if (expires < now) this.#revoked.delete(id);
    if (this.#revoked.size >= this.#maxRevoked) {
      this.#processKey = randomBytes(32);
      this.#revoked.clear();
      return;
    }
    this.#revoked.set(session.id, session.expires);
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    const secure = this.options.secure ? '; Secure' : '';
    return `${this.cookieName}=${value}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; SameSite=Strict${secure}`;
  }

  private sign(session: FleetSession): string | undefined {
    const token = this.options.keyOf(session.role);
    if (!token) return undefined;
    return createHmac('sha256', Buffer.concat([this.#processKey, Buffer.from(token.reveal())]))
      .update(`fleet-session:${session.role}:${session.expires}:${session.id}`)
      .digest('base64url');
  }
}
