/** `Status` of a provisioning artifact as DescribeProvisioningArtifact reports it. */
export type ArtifactStatus = 'AVAILABLE' | 'CREATING' | 'FAILED';

/**
 * CreateProvisioningArtifact is asynchronous on AWS: the version is CREATING until Service Catalog has copied and
 * validated the template, and callers (Terraform, our remediation) poll DescribeProvisioningArtifact until it is
 * AVAILABLE or FAILED. The emulator settles a version lazily, when someone looks, so no timers outlive a test.
 */
export interface ArtifactLifecycle {
  /** What the version becomes once settled. */
  outcome: 'AVAILABLE' | 'FAILED';
  settled: boolean;
  createdAtMs: number;
  /** Settles once this much time has passed since creation; null: never by time. */
  readyAfterMs: number | null;
  /** Settles on this DescribeProvisioningArtifact call (1 = the first); null: never by describes. */
  readyAfterDescribes: number | null;
  describes: number;
}

export function settledLifecycle(outcome: 'AVAILABLE' | 'FAILED', createdAtMs: number): ArtifactLifecycle {
  return { outcome, settled: true, createdAtMs, readyAfterMs: null, readyAfterDescribes: null, describes: 0 };
}

export function pendingLifecycle(init: {
  outcome: 'AVAILABLE' | 'FAILED';
  createdAtMs: number;
  readyAfterMs: number | null;
  readyAfterDescribes: number | null;
}): ArtifactLifecycle {
  return { ...init, settled: false, describes: 0 };
}

/** The status at `nowMs`; `describe` counts this look as one DescribeProvisioningArtifact call. */
export function observeStatus(lifecycle: ArtifactLifecycle, nowMs: number, describe = false): ArtifactStatus {
  if (!lifecycle.settled) {
    if (describe) lifecycle.describes++;
    const byTime = lifecycle.readyAfterMs !== null && nowMs - lifecycle.createdAtMs >= lifecycle.readyAfterMs;
    const byDescribes = lifecycle.readyAfterDescribes !== null && lifecycle.describes >= lifecycle.readyAfterDescribes;
    if (byTime || byDescribes) lifecycle.settled = true;
  }
  return lifecycle.settled ? lifecycle.outcome : 'CREATING';
}

/** Ends the creation now, whatever the configured delays say. */
export function settleNow(lifecycle: ArtifactLifecycle, outcome: 'AVAILABLE' | 'FAILED'): void {
  lifecycle.outcome = outcome;
  lifecycle.settled = true;
}
