import type { DynatraceSimulator } from '../../sandbox/dynatrace/index.js';

/** What a run cost the cluster, as the simulator counted it. */
export interface SimulatorCounts {
  apiRequests: number;
  /**
   * Of those, the fleet status page's scans: every environment's problems, and some environments'
   * OneAgents, listed every 30 s whether anything rolls out or not. A roll-out makes neither call.
   */
  scanRequests: number;
  /** Calls per route (`GET /e/{environmentId}/api/v2/entities`), to say where the calls go. */
  byRoute: Record<string, number>;
  throttled: number;
  environments: number;
  apiTokens: number;
  groups: number;
  installerDownloads: number;
  hostsConnected: number;
  agentConnects: number;
  duplicateCreateAttempts: number;
  faultsInjected: number;
}

const SCAN_ROUTES = new Set(['GET /e/{environmentId}/api/v2/problems', 'GET /e/{environmentId}/api/v1/oneagents']);

function counts(simulator: DynatraceSimulator): SimulatorCounts {
  const s = simulator.stats.snapshot();
  const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  const byRoute = Object.fromEntries(Object.entries(s.requests).map(([route, byStatus]) => [route, sum(byStatus)]));
  return {
    apiRequests: s.apiRequests,
    scanRequests: [...SCAN_ROUTES].reduce((n, route) => n + (byRoute[route] ?? 0), 0),
    byRoute,
    throttled: s.throttled,
    environments: s.created.environments ?? 0,
    apiTokens: s.created.apiTokens ?? 0,
    groups: s.created.groups ?? 0,
    installerDownloads: s.installerDownloads,
    hostsConnected: s.hostsConnected,
    agentConnects: s.agentConnects,
    duplicateCreateAttempts: sum(s.duplicateCreateAttempts),
    faultsInjected: sum(s.faultsInjected),
  };
}

/** Counts since `start()`: the simulator is shared by several runs of one benchmark. */
export function countsSince(simulator: DynatraceSimulator): () => SimulatorCounts {
  const before = counts(simulator);
  return () => {
    const { byRoute, ...totals } = counts(simulator);
    const since = (k: keyof typeof totals) => totals[k] - before[k];
    return {
      ...(Object.fromEntries(Object.keys(totals).map((k) => [k, since(k as keyof typeof totals)])) as typeof totals),
      byRoute: Object.fromEntries(
        Object.entries(byRoute)
          .map(([route, n]) => [route, n - (before.byRoute[route] ?? 0)] as const)
          .filter(([, n]) => n > 0),
      ),
    };
  };
}
