import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '../config/secret.js';

const COOKIE = 'autopilot_fleet_session';
const LIFETIME_MS = 12 * 3_600_000;

/**
 * A browser's sign-in to the status page with the static token: the cookie holds an expiry and
 * an HMAC of it keyed with the token, never the token, so it proves the token was known and
 * dies with a token change.
 */
export class FleetSessions {
  constructor(private readonly token: SecretSource) {}

  readonly cookieName = COOKIE;

  issue(now = Date.now()): { value: string; maxAgeSeconds: number } {
    const expires = String(now + LIFETIME_MS);
    return { value: `${expires}.${this.sign(expires)}`, maxAgeSeconds: LIFETIME_MS / 1000 };
  }

  valid(cookieHeader: string | undefined, now = Date.now()): boolean {
    const value = cookieHeader
      ?.split(/;\s*/)
      .find((c) => c.startsWith(`${COOKIE}=`))
      ?.slice(COOKIE.length + 1);
    if (!value) return false;
    const [expires, signature] = value.split('.');
    if (!expires || !signature || !/^\d{1,15}$/.test(expires) || Number(expires) < now) return false;
    const expected = Buffer.from(this.sign(expires));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private sign(expires: string): string {
    return createHmac('sha256', this.token.reveal()).update(`fleet-session:${expires}`).digest('base64url');
  }
}
