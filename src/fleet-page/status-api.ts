import type { FleetScanEvent, FleetStatus } from '../shared/fleet-status.js';

export class NotSignedInError extends Error {}

/** What `/fleet/session` says about this browser's own sign-in. */
export interface FleetSessionInfo {
  role: 'reader' | 'writer';
  /** `session` for a browser signed in with a token (it can sign out); `oidc`, `token`, `sandbox` otherwise. */
  via: 'session' | 'token' | 'oidc' | 'sandbox';
  expiresAt?: string;
}

/** This browser's sign-in, or undefined when the fleet server does not say (not signed in, older server). */
export async function fetchSession(): Promise<FleetSessionInfo | undefined> {
  const response = await fetch('/fleet/session', {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  });
  return response.ok ? ((await response.json()) as FleetSessionInfo) : undefined;
}

/** `/fleet/status`, now or at a moment of the retention. */
export async function fetchStatus(at?: number): Promise<FleetStatus> {
  const url = at === undefined ? '/fleet/status' : `/fleet/status?at=${encodeURIComponent(new Date(at).toISOString())}`;
  const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (response.status === 401) throw new NotSignedInError('not signed in');
  if (!response.ok) throw new Error(`the fleet server answered ${response.status}`);
  return (await response.json()) as FleetStatus;
}

/** Calls `onScan` after every scan the fleet server announces; the browser reconnects by itself. */
export function subscribeToScans(onScan: (event: FleetScanEvent) => void, onTrouble: (trouble: boolean) => void): void {
  const events = new EventSource('/fleet/events', { withCredentials: true });
  events.addEventListener('scan', (e) => onScan(JSON.parse((e as MessageEvent<string>).data) as FleetScanEvent));
  events.addEventListener('open', () => onTrouble(false));
  events.addEventListener('error', () => onTrouble(true));
}
