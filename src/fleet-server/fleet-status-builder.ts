import type { EnvironmentScanRow, FleetHistory } from '../fleet/fleet-history.js';
import type { EnvironmentRegistry } from '../registry/environment-registry.js';
import type { StandardsStore } from '../standards/standards-store.js';
import { ONBOARD_CUSTOMER } from '../shared/onboarding.js';
import { REMEDIATE_CPU_SATURATION } from '../shared/remediation.js';
import {
  worseSeverity,
  type CellState,
  type FleetEnvironmentCell,
  type FleetProblem,
  type FleetStatus,
} from '../shared/fleet-status.js';
import type { AutopilotVisibility } from './autopilot-visibility.js';

export interface FleetStatusSettings {
  scanIntervalSeconds: number;
  retentionDays: number;
  temporalUiUrl?: string | undefined;
  namespace: string;
}

/** A moment within this of now is "live". */
const LIVE_WITHIN_MS = 1_000;
const STALE_INTERVALS = 3;

/**
 * Builds what the status page shows for now or for a moment of the retention: the registry's
 * environments, the problems open then (from the fleet history), incidents, host censuses, drift
 * from the standards, and Autopilot's own runs from Temporal's visibility.
 */
export class FleetStatusBuilder {
  constructor(
    private readonly registry: EnvironmentRegistry,
    private readonly history: FleetHistory,
    private readonly visibility: AutopilotVisibility | undefined,
    private readonly settings: FleetStatusSettings,
    private readonly standards: StandardsStore,
  ) {}

  async build(requestedAt?: Date): Promise<FleetStatus> {
    const now = new Date();
    const live = !requestedAt || requestedAt.getTime() >= now.getTime() - LIVE_WITHIN_MS;
    const at = live ? now : requestedAt;
    const [
      environments,
      problems,
      incidents,
      overTime,
      censuses,
      scans,
      lastScan,
      firstScan,
      healing,
      onboarding,
      drift,
    ] = await Promise.all([
      this.registry.list(),
      this.history.openProblemsAt(at, live),
      this.history.incidentsAt(at),
      this.history.problemsOverTime(at),
      this.history.latestHostSnapshots(at),
      live ? this.history.environmentScans() : Promise.resolve(new Map<string, EnvironmentScanRow>()),
      this.history.lastScan(at),
      this.history.firstRecord(),
      this.visibility?.environmentsWith(REMEDIATE_CPU_SATURATION, live ? undefined : at) ?? new Map<string, string[]>(),
      this.visibility?.environmentsWith(ONBOARD_CUSTOMER, live ? undefined : at) ?? new Map<string, string[]>(),
      // Resolved drift is kept, so the slider's moments get their drift rebuilt rather than left out.
      live ? this.standards.openDriftCounts() : this.standards.openDriftCountsAt(at),
    ]);
    const intervalMs = this.settings.scanIntervalSeconds * 1000;
    const staleBefore = at.getTime() - STALE_INTERVALS * intervalMs;

    const byEnvironment = new Map<string, FleetProblem[]>();
    const fleetProblems: FleetProblem[] = problems.map((p) => ({
      environmentId: p.environmentId,
      problemId: p.problemId,
      displayId: p.displayId,
      title: p.title,
      severity: p.severity,
      impact: p.impact,
      openedAt: p.openedAt.toISOString(),
      openSeconds: Math.max(0, Math.round((at.getTime() - p.openedAt.getTime()) / 1000)),
      affectedEntities: p.affectedEntities,
      ...(p.incidentId ? { incidentId: p.incidentId } : {}),
    }));
    for (const p of fleetProblems) {
      const list = byEnvironment.get(p.environmentId) ?? [];
      list.push(p);
      byEnvironment.set(p.environmentId, list);
    }

    const agentVersions = new Map<string, number>();
    const cells: FleetEnvironmentCell[] = [];
    for (const environment of environments) {
      if (!live && new Date(environment.createdAt) > at) continue;
      const open = byEnvironment.get(environment.id) ?? [];
      const census = censuses.get(environment.id);
      const scan = scans.get(environment.id);
      const severity = open.reduce<string | undefined>((worst, p) => worseSeverity(worst, p.severity), undefined);
      const lastOk = scan?.problemsOkAt?.getTime();
      const stale = live && (lastOk === undefined || lastOk < staleBefore);
      const isHealing = healing.has(environment.id);
      const state: CellState = onboarding.has(environment.id)
        ? 'onboarding'
        : live && environment.state === 'needs-attention'
          ? 'needs-attention'
          : isHealing
            ? 'healing'
            : open.length > 0
              ? 'problems'
              : stale
                ? 'stale'
                : 'healthy';
      for (const [version, hosts] of Object.entries(census?.agentVersions ?? {})) {
        agentVersions.set(version, (agentVersions.get(version) ?? 0) + hosts);
      }
      const drifted = drift.get(environment.id) ?? 0;
      const expiries = environment.tokens
        .filter((t) => t.state === 'current' && t.expiresAt)
        .map((t) => t.expiresAt!)
        .sort();
      cells.push({
        id: environment.id,
        kind: environment.kind,
        cluster: environment.kind === 'saas' ? null : (environment.cluster ?? null),
        customer: environment.customer ?? null,
        stage: environment.stage ?? null,
        ...(environment.tags.length ? { tags: environment.tags } : {}),
        state,
        ...(severity ? { severity } : {}),
        openProblems: open.length,
        healing: isHealing,
        ...(environment.attention && environment.state === 'needs-attention'
          ? { attention: environment.attention }
          : {}),
        ...(census ? { hosts: census.hosts, agentVersions: census.agentVersions } : {}),
        ...(expiries[0] ? { tokensExpireAt: expiries[0] } : {}),
        ...(scan?.problemsOkAt ? { lastScanAt: scan.problemsOkAt.toISOString() } : {}),
        ...(scan?.problemsError ? { scanError: scan.problemsError } : {}),
        stale,
        ...(drifted > 0 ? { drifted } : {}),
      });
    }

    const known = new Set(cells.map((c) => c.id));
    const retentionFrom = new Date(now.getTime() - this.settings.retentionDays * 86_400_000);
    const historyFrom = firstScan && firstScan > retentionFrom ? firstScan : retentionFrom;
    const ageSeconds = lastScan ? Math.round((at.getTime() - lastScan.finished_at.getTime()) / 1000) : undefined;
    return {
      at: at.toISOString(),
      live,
      generatedAt: now.toISOString(),
      scan: {
        ...(lastScan ? { lastScanAt: lastScan.finished_at.toISOString() } : {}),
        ...(ageSeconds !== undefined ? { ageSeconds } : {}),
        intervalSeconds: this.settings.scanIntervalSeconds,
        stale: ageSeconds === undefined || ageSeconds * 1000 > STALE_INTERVALS * intervalMs,
        environmentsFailing: cells.filter((c) => c.scanError !== undefined).length,
      },
      history: { from: historyFrom.toISOString(), to: now.toISOString() },
      environments: cells,
      driftedEnvironments: cells.filter((c) => c.drifted !== undefined).length,
      problems: fleetProblems.filter((p) => known.has(p.environmentId)),
      incidents,
      ...(live && this.visibility ? { autopilot: await this.visibility.activity(healing) } : {}),
      charts: {
        problemsOverTime: overTime,
        agentVersions: [...agentVersions.entries()]
          .map(([version, hosts]) => ({ version, hosts }))
          .sort((a, b) => b.hosts - a.hosts || a.version.localeCompare(b.version)),
      },
      ...(this.settings.temporalUiUrl
        ? { temporalUiUrl: this.settings.temporalUiUrl, runsUrlTemplate: this.runsUrlTemplate() }
        : {}),
    };
  }

  private runsUrlTemplate(): string {
    const base = this.settings.temporalUiUrl!.replace(/\/$/, '');
    const query = `${encodeURIComponent('DtEnvironmentId=')}{environmentId}`;
    return `${base}/namespaces/${encodeURIComponent(this.settings.namespace)}/workflows?query=${query}`;
  }
}
