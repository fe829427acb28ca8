/**
 * Every failure type Autopilot raises, in one place: workflows, activities, the CLI and the tests
 * compare against these names, and operators see them in the Temporal UI (`failureType` of an
 * attention request). A type says what an operator has to do, so it never changes its meaning.
 */
export const FailureType = {
  // Input and operators
  InvalidWorkflowInput: 'InvalidWorkflowInput',
  OperatorAborted: 'OperatorAborted',
  /** A step kept failing or timing out until its retry window closed. */
  StepTimedOut: 'Timeout',

  // Secrets and payloads
  MissingSecret: 'MissingSecret',
  /** A workflow input named a secret that the workflow may not touch (e.g. not one staged for it). */
  SecretReferenceRefused: 'SecretReferenceRefused',
  /** An environment URL a token may not go to: not https, not a SaaS domain, not its cluster's. */
  EnvironmentUrlRefused: 'EnvironmentUrlRefused',
  /** `environments add` of an id that is registered, without `--replace`. */
  EnvironmentAlreadyRegistered: 'EnvironmentAlreadyRegistered',
  /** A SaaS or hand-registered environment: there is no cluster token to mint its tokens with. */
  TokensNotManaged: 'TokensNotManaged',
  /** The environment is not in the registry (nor on the one configured cluster). */
  UnknownEnvironment: 'UnknownEnvironment',
  /** No cluster of that name is configured (DT_CLUSTER_URL or AUTOPILOT_CLUSTERS_FILE). */
  UnknownCluster: 'UnknownCluster',
  PayloadDecryptionError: 'PayloadDecryptionError',
  /** A start, signal or update whose payloads were not sealed with a codec key: not from one of our clients. */
  UnsealedPayload: 'UnsealedPayload',

  // Dynatrace API (see dynatrace/errors.ts for which are retried)
  DynatraceThrottled: 'DynatraceThrottled',
  DynatraceServerError: 'DynatraceServerError',
  DynatraceUnavailable: 'DynatraceUnavailable',
  DynatraceBadRequest: 'DynatraceBadRequest',
  DynatraceUnauthorized: 'DynatraceUnauthorized',
  DynatraceForbidden: 'DynatraceForbidden',
  DynatraceNotFound: 'DynatraceNotFound',
  DynatraceConflict: 'DynatraceConflict',
  DynatraceRequestRejected: 'DynatraceRequestRejected',
  DynatraceUnexpectedResponse: 'DynatraceUnexpectedResponse',

  // The OneAgent installer
  /** The installer is not signed, or its signature does not verify against DT_INSTALLER_CA_FILE. */
  InstallerSignatureInvalid: 'InstallerSignatureInvalid',
  /**
   * Outside the sandbox without DT_INSTALLER_CA_FILE there is nothing to verify an installer against:
   * it is refused unless the operator accepted shape-only checks (AUTOPILOT_INSTALLER_SIGNATURE).
   */
  InstallerSignatureUnverifiable: 'InstallerSignatureUnverifiable',
  InstallerChanged: 'InstallerChanged',
  InstallerCacheMismatch: 'InstallerCacheMismatch',
  /** The shared installer store returned bytes other than the checksum it was stored with. */
  InstallerStoreCorrupt: 'InstallerStoreCorrupt',
  /** AUTOPILOT_INSTALLER_BUCKET names a bucket that does not exist. */
  InstallerBucketMissing: 'InstallerBucketMissing',

  // Hosts
  ExecutorUnavailable: 'ExecutorUnavailable',
  /**
   * An input named the local executor (the installer would run on the worker's own machine), which
   * only the sandbox and workers whose operator set AUTOPILOT_HOST_EXECUTOR=local accept.
   */
  LocalExecutorRefused: 'LocalExecutorRefused',
  HostUnreachable: 'HostUnreachable',
  HostLoginRefused: 'HostLoginRefused',
  HostKeyRejected: 'HostKeyRejected',
  HostTransferFailed: 'HostTransferFailed',
  HostPrivilegesMissing: 'HostPrivilegesMissing',
  InstallFailed: 'InstallFailed',
  InstallTimedOut: 'InstallTimedOut',
  HostNotReporting: 'HostNotReporting',
  EnvironmentOnboardingFailed: 'EnvironmentOnboardingFailed',

  // Self-healing on AWS (AWS SDK errors become `Aws<ErrorName>`, see awsFailureType)
  AwsNotConfigured: 'AwsNotConfigured',
  ApprovedTypesMissing: 'ApprovedTypesMissing',
  InstanceTypeNotApproved: 'InstanceTypeNotApproved',
  AtTopOfApprovedTypes: 'AtTopOfApprovedTypes',
  TemplateNotEditable: 'TemplateNotEditable',
  TemplateBucketMissing: 'TemplateBucketMissing',
  ArtifactCreationFailed: 'ArtifactCreationFailed',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** An AWS SDK error's name as a failure type: `AccessDeniedException` → `AwsAccessDeniedException`. */
export const awsFailureType = (errorName: string) => `Aws${errorName.replace(/[^A-Za-z0-9]/g, '')}`;
