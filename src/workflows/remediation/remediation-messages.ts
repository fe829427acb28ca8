import type { RolledArtifact } from '../../shared/remediation.js';

/** What the roll plan says, as far as the comments repeat it. */
interface PlannedSize {
  runningType: string;
  targetType: string;
}

/**
 * The comments Dynatrace users read on their problems, in one place: each says what Autopilot did
 * (or why not) in words a problem's owner understands, without a link into our own tooling.
 */
export const remediationComments = {
  cannotResize: (host: string, reason: string) => `Dynatrace Autopilot cannot resize ${host}: ${reason}.`,

  skippedByOperator: (host: string, problems: string) =>
    `Dynatrace Autopilot: CPU kept saturating on ${host} (${problems}); an operator decided not to resize it.`,

  approvalExpired: (host: string, plan: PlannedSize, problems: string, timeout: string) =>
    `Dynatrace Autopilot proposed a larger instance type for ${host} (${plan.runningType} → ${plan.targetType}) after ` +
    `repeated CPU saturation (${problems}), but nobody approved it within ${timeout}: nothing was changed.`,

  rejected: (host: string, plan: PlannedSize, problems: string, by?: string, reason?: string) =>
    `Dynatrace Autopilot proposed ${plan.runningType} → ${plan.targetType} for ${host} after repeated CPU saturation ` +
    `(${problems}); the change was rejected${by ? ` by ${by}` : ''}${reason ? ` (${reason})` : ''}. Nothing was changed.`,

  created: (host: string, problems: string, window: string, rolled: RolledArtifact, deprecated: boolean) =>
    `Dynatrace Autopilot: CPU saturated repeatedly on ${host} (${problems} within ${window}). Created version ` +
    `"${rolled.name}" (${rolled.artifactId}) of Service Catalog product ${rolled.productId}: instance type ` +
    `${rolled.fromType} → ${rolled.toType}${deprecated ? `; version ${rolled.previousArtifactId} is deprecated` : ''}. ` +
    `New launches get ${rolled.toType}; running instances keep their size until they are updated to the new version.`,

  alreadyExisted: (host: string, problems: string, rolled: RolledArtifact) =>
    `Dynatrace Autopilot: CPU saturated repeatedly on ${host} (${problems}). Product ${rolled.productId} already has ` +
    `version ${rolled.artifactId} with ${rolled.toType} (created for this size step before); no new version was ` +
    `needed. Update the instance to that version to get the larger size.`,

  duringCooldown: (host: string, artifact: RolledArtifact, until: string) =>
    `Dynatrace Autopilot: ${host} already got a larger size: version ${artifact.artifactId} (${artifact.toType}) of ` +
    `product ${artifact.productId}. Running instances keep their size until they are updated; no further step is ` +
    `taken before ${until}.`,
};
