import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { FleetSessions } from '../../src/fleet-server/fleet-session.js';

const READ = new Secret('fleet-read-token-0123456789');
const WRITE = new Secret('fleet-write-token-0123456789');
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('fleet server browser sessions', () => {
  it('carry their role, end at their expiry, and die with a token change', () => {
    let write = WRITE;
    const sessions = new FleetSessions({ keyOf: (role) => (role === 'writer' ? write : READ), secure: false });
    const now = Date.now();
    const { session, setCookie } = sessions.issue('writer', now);
    expect(sessions.verify(cookieOf(setCookie), now)).toEqual(session);
    expect(session.expires - now).toBe(sessions.lifetimeMs);
    expect(sessions.verify(cookieOf(setCookie), session.expires + 1)).toBeUndefined();
    // A reader's cookie presented as a writer's is no session.
    const reader = cookieOf(sessions.issue('reader', now).setCookie);
    expect(sessions.verify(reader, now)?.role).toBe('reader');
    expect(sessions.verify(reader.replace('=reader.', '=writer.'), now)).toBeUndefined();
    write = new Secret('fleet-write-token-rotated-0123');
    expect(sessions.verify(cookieOf(setCookie), now)).toBeUndefined();
    expect(sessions.verify(reader, now)?.role).toBe('reader');
  });

  it('keep signed-out sessions refused, in a bounded list that ends every session when it is full', () => {
    const sessions = new FleetSessions({
      keyOf: (role) => (role === 'writer' ? WRITE : READ),
      secure: true,
      maxRevoked: 3,
    });
    const now = Date.now();
    const issued = Array.from({ length: 5 }, () => sessions.issue('reader', now));
    expect(issued[0]!.setCookie).toMatch(/^__Host-autopilot_fleet_session=reader\..*; Secure$/);
    for (const { session } of issued.slice(0, 3)) sessions.revoke(session, now);
    expect(sessions.revokedCount).toBe(3);
    expect(issued.map(({ setCookie }) => Boolean(sessions.verify(cookieOf(setCookie), now)))).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
    // Sessions signed out long ago leave the list once they would have expired anyway.
    const later = now + sessions.lifetimeMs + 1;
    const fresh = sessions.issue('writer', later);
    sessions.revoke(fresh.session, later);
    expect(sessions.revokedCount).toBe(1);
    // A full list of live signed-out sessions: every session ends, the signed-out ones stay refused.
    const bystander = sessions.issue('reader', later);
    const live = Array.from({ length: 3 }, () => sessions.issue('writer', later));
    sessions.revoke(live[0]!.session, later);
    sessions.revoke(live[1]!.session, later);
    expect(sessions.revokedCount).toBe(3);
    expect(sessions.verify(cookieOf(bystander.setCookie), later)?.role).toBe('reader');
    sessions.revoke(live[2]!.session, later);
    expect(sessions.revokedCount).toBe(0);
    for (const { setCookie } of [...live, fresh, bystander]) {
      expect(sessions.verify(cookieOf(setCookie), later)).toBeUndefined();
    }
    expect(sessions.verify(cookieOf(sessions.issue('reader', later).setCookie), later)?.role).toBe('reader');
  });
});
