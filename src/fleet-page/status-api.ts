import type { FleetScanEvent, FleetStatus } from '../shared/fleet-status.js';

export class NotSignedInError extends Error {}

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
