import type { EnvironmentMaintenance, MaintenanceReport } from '../../shared/maintenance.js';

/** Per-environment entries a report keeps; the counts always cover the whole run. */
const KEPT_ENTRIES = 500;

/** What one maintenance run has done so far: the counts, and the environments it worked on. */
export class MaintenanceRun {
  readonly report: MaintenanceReport;

  constructor(asOf: Date) {
    this.report = {
      asOf: asOf.toISOString(),
      environmentsDue: 0,
      rotated: 0,
      revoked: 0,
      orphansRevoked: 0,
      scopesChecked: 0,
      needsAttention: 0,
      failed: 0,
      environments: [],
    };
  }

  add(results: EnvironmentMaintenance[]): void {
    const r = this.report;
    for (const e of results) {
      r.environmentsDue++;
      r.rotated += e.rotated.length;
      r.revoked += e.revoked.length;
      r.orphansRevoked += e.orphansRevoked.length;
      if (e.scopesChecked) r.scopesChecked++;
      if (e.outcome === 'needs-attention') r.needsAttention++;
      if (e.outcome === 'failed') r.failed++;
      if (r.environments.length < KEPT_ENTRIES) r.environments.push(e);
    }
  }

  /** One line for the Temporal UI's current details. */
  summary(): string {
    const r = this.report;
    return [
      `${r.environmentsDue} environment(s) with something due`,
      `${r.rotated} token(s) rotated`,
      `${r.revoked} revoked after their grace`,
      ...(r.orphansRevoked ? [`${r.orphansRevoked} orphan(s) revoked`] : []),
      `${r.scopesChecked} scope check(s)`,
      ...(r.needsAttention ? [`${r.needsAttention} need attention`] : []),
    ].join(', ');
  }
}
