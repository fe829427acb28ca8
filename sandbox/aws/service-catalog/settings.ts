import type { TemplateFetcher } from './template.js';
import { fetchTemplateOverHttp } from './template.js';

/** Returns the template of a CloudFormation stack, for `Info.ImportFromPhysicalId`. */
export type StackTemplateResolver = (stackArn: string) => Promise<string | undefined>;

/** Behaviour knobs; all can be given at start and changed later with `configure`. */
export interface ServiceCatalogEmulatorSettings {
  /** Region and account used in ARNs. Defaults follow moto: us-east-1, 123456789012. */
  region: string;
  accountId: string;
  /** A new version turns from CREATING to AVAILABLE (or FAILED) this long after creation; null: never by time. */
  artifactReadyAfterMs: number | null;
  /** … or on this DescribeProvisioningArtifact call of the version (1 = the first); null: never by describes. */
  artifactReadyAfterDescribes: number | null;
  /**
   * Versions per product before CreateProvisioningArtifact answers LimitExceededException. The real quota is not
   * verified (the reference marks it [U]); 100 is the default "versions per product" of the Service Catalog quotas
   * page, and tests lower it to reach the limit quickly.
   */
  maxArtifactsPerProduct: number;
  /**
   * Whether DeleteProvisioningArtifact refuses (ResourceInUseException) a version a provisioned product runs on.
   * Whether AWS refuses is not verified; refusing by default makes a rollback that deletes the wrong version fail
   * loudly in tests.
   */
  refuseDeletingArtifactInUse: boolean;
  /** Share (0–1) of requests answered HTTP 500 InternalFailure. */
  internalFailureRate: number;
  /** Share (0–1) of requests answered HTTP 400 ThrottlingException. */
  throttlingRate: number;
  /** Reads `LoadTemplateFromURL`; default: a plain HTTP(S) GET. */
  fetchTemplate: TemplateFetcher;
  /** Resolves `ImportFromPhysicalId` stack ARNs not registered with `registerStackTemplate`. */
  resolveStackTemplate?: StackTemplateResolver;
}

export const DEFAULT_SETTINGS: ServiceCatalogEmulatorSettings = {
  region: 'us-east-1',
  accountId: '123456789012',
  artifactReadyAfterMs: 300,
  artifactReadyAfterDescribes: null,
  maxArtifactsPerProduct: 100,
  refuseDeletingArtifactInUse: true,
  internalFailureRate: 0,
  throttlingRate: 0,
  fetchTemplate: fetchTemplateOverHttp,
};

/** Applies a partial update after checking it, so a typo in a test fails at the knob, not in a confusing later call. */
export function applySettings(
  target: ServiceCatalogEmulatorSettings,
  patch: Partial<ServiceCatalogEmulatorSettings>,
): void {
  const next = { ...target, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(next.region)) throw new RangeError(`invalid region ${next.region}`);
  if (!/^\d{12}$/.test(next.accountId)) throw new RangeError(`accountId must be 12 digits, got ${next.accountId}`);
  for (const [name, value] of [
    ['artifactReadyAfterMs', next.artifactReadyAfterMs],
    ['artifactReadyAfterDescribes', next.artifactReadyAfterDescribes],
  ] as const) {
    if (value !== null && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`${name} must be null or a non-negative number, got ${value}`);
    }
  }
  if (!(Number.isInteger(next.maxArtifactsPerProduct) && next.maxArtifactsPerProduct >= 1)) {
    throw new RangeError(`maxArtifactsPerProduct must be a positive integer, got ${next.maxArtifactsPerProduct}`);
  }
  for (const [name, value] of [
    ['internalFailureRate', next.internalFailureRate],
    ['throttlingRate', next.throttlingRate],
  ] as const) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  }
  if (next.internalFailureRate + next.throttlingRate > 1) {
    throw new RangeError('internalFailureRate + throttlingRate must not exceed 1');
  }
  Object.assign(target, next);
}
