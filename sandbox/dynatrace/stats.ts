export interface NotificationDelivery {
  environmentId: string;
  problemId: string;
  state: 'OPEN' | 'RESOLVED' | 'TEST';
  /** The notification settings object that sent it, or `override` for a control-API target. */
  via: string;
  url: string;
  status: number | null;
  error?: string;
  at: number;
}

type Counter = Record<string, number>;

/**
 * What tests and benchmarks assert on: requests by route and status, what was created, and how
 * often a client tried to create something that already existed.
 */
export class SimulatorStats {
  requests: Record<string, Counter> = {};
  requestsTotal = 0;
  /** Cluster and environment API requests only: what a client of the API costs (agents excluded). */
  apiRequests = 0;
  throttled = 0;
  faultsInjected: Counter = {};
  created: Counter = {};
  duplicateCreateAttempts: Counter = {};
  installerDownloads = 0;
  installerNotModified = 0;
  agentConnects = 0;
  hostsConnected = 0;
  failedInstalls = 0;
  notificationsSent = 0;
  notificationsFailed = 0;
  deliveries: NotificationDelivery[] = [];
  byEnvironment: Record<string, Counter> = {};

  request(route: string, status: number, environmentId?: string, api = true): void {
    const counter = (this.requests[route] ??= {});
    counter[status] = (counter[status] ?? 0) + 1;
    this.requestsTotal++;
    if (api) this.apiRequests++;
    if (status === 429) this.throttled++;
    if (environmentId) this.env(environmentId, 'requests');
  }

  create(kind: string, environmentId?: string): void {
    this.created[kind] = (this.created[kind] ?? 0) + 1;
    if (environmentId) this.env(environmentId, `${kind}Created`);
  }

  duplicate(kind: string): void {
    this.duplicateCreateAttempts[kind] = (this.duplicateCreateAttempts[kind] ?? 0) + 1;
  }

  fault(kind: string): void {
    this.faultsInjected[kind] = (this.faultsInjected[kind] ?? 0) + 1;
  }

  env(environmentId: string, key: string, by = 1): void {
    const counter = (this.byEnvironment[environmentId] ??= {});
    counter[key] = (counter[key] ?? 0) + by;
  }

  delivery(d: NotificationDelivery): void {
    if (d.status !== null && d.status < 300) this.notificationsSent++;
    else this.notificationsFailed++;
    this.deliveries.push(d);
    if (this.deliveries.length > 500) this.deliveries.splice(0, this.deliveries.length - 500);
  }

  reset(): void {
    Object.assign(this, new SimulatorStats());
  }

  snapshot() {
    return {
      requests: this.requests,
      requestsTotal: this.requestsTotal,
      apiRequests: this.apiRequests,
      throttled: this.throttled,
      faultsInjected: this.faultsInjected,
      created: this.created,
      duplicateCreateAttempts: this.duplicateCreateAttempts,
      installerDownloads: this.installerDownloads,
      installerNotModified: this.installerNotModified,
      agentConnects: this.agentConnects,
      hostsConnected: this.hostsConnected,
      failedInstalls: this.failedInstalls,
      notificationsSent: this.notificationsSent,
      notificationsFailed: this.notificationsFailed,
      deliveries: this.deliveries,
      byEnvironment: this.byEnvironment,
    };
  }
}

export type SimulatorStatsSnapshot = ReturnType<SimulatorStats['snapshot']>;
