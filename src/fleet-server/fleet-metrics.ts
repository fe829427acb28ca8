import { Gauge, Registry } from 'prom-client';
import type { FleetStatus } from '../shared/fleet-status.js';

/** The status page's state as Prometheus gauges, set from a fresh status at every scrape. */
export class FleetMetrics {
  readonly registry = new Registry();
  private readonly environments = new Gauge({
    name: 'autopilot_fleet_environments',
    help: 'Environments of the registry by cell state and cluster ("saas" for SaaS environments).',
    labelNames: ['state', 'cluster'],
    registers: [this.registry],
  });
  private readonly problems = new Gauge({
    name: 'autopilot_fleet_open_problems',
    help: 'Open Dynatrace problems across the fleet by severity and cluster.',
    labelNames: ['severity', 'cluster'],
    registers: [this.registry],
  });
  private readonly oldestProblem = new Gauge({
    name: 'autopilot_fleet_oldest_open_problem_seconds',
    help: 'How long the longest-open problem of the fleet has been open.',
    registers: [this.registry],
  });
  private readonly incidents = new Gauge({
    name: 'autopilot_fleet_open_incidents',
    help: 'Fleet incidents (one problem type in many environments) still open.',
    registers: [this.registry],
  });
  private readonly scanAge = new Gauge({
    name: 'autopilot_fleet_scan_age_seconds',
    help: 'Age of the last finished fleet scan.',
    registers: [this.registry],
  });
  private readonly failing = new Gauge({
    name: 'autopilot_fleet_environments_unreadable',
    help: 'Environments whose problems the last scan could not read.',
    registers: [this.registry],
  });
  private readonly drifted = new Gauge({
    name: 'autopilot_fleet_drifted_environments',
    help: 'Environments with open drift from the standards applied last (fields that differ).',
    registers: [this.registry],
  });
  private readonly hosts = new Gauge({
    name: 'autopilot_fleet_hosts',
    help: 'Hosts with OneAgent by agent version, from the last host censuses.',
    labelNames: ['version'],
    registers: [this.registry],
  });
  private readonly running = new Gauge({
    name: 'autopilot_runs_running',
    help: "Autopilot's own running workflows by kind (from Temporal's visibility).",
    labelNames: ['kind'],
    registers: [this.registry],
  });

  async render(status: FleetStatus): Promise<string> {
    for (const gauge of [this.environments, this.problems, this.hosts, this.running]) gauge.reset();
    const clusterOf = new Map(status.environments.map((e) => [e.id, e.cluster ?? 'saas']));
    for (const e of status.environments) this.environments.inc({ state: e.state, cluster: e.cluster ?? 'saas' });
    for (const p of status.problems)
      this.problems.inc({ severity: p.severity, cluster: clusterOf.get(p.environmentId) ?? 'unknown' });
    this.oldestProblem.set(status.problems.reduce((max, p) => Math.max(max, p.openSeconds), 0));
    this.incidents.set(status.incidents.filter((i) => i.open).length);
    if (status.scan.ageSeconds !== undefined) this.scanAge.set(status.scan.ageSeconds);
    this.failing.set(status.scan.environmentsFailing);
    this.drifted.set(status.driftedEnvironments);
    for (const v of status.charts.agentVersions) this.hosts.set({ version: v.version }, v.hosts);
    for (const [kind, count] of Object.entries(status.autopilot?.running ?? {})) this.running.set({ kind }, count);
    return this.registry.metrics();
  }
}
