export { DynatraceClient } from './client.js';
export {
  ClusterApi,
  type Environment,
  type EnvironmentInput,
  type UserGroup,
  type UserGroupInput,
} from './cluster-api.js';
export { EnvironmentApi } from './environment-api.js';
export type { ApiTokenMetadata, CreatedApiToken } from './api-tokens-api.js';
export type { ConnectionInfo, InstallerDownload, InstallerSelector } from './deployment-api.js';
export type { Entity, HostV1, OneAgentHost } from './entities-api.js';
export type { Problem, ProblemComment, ProblemV1 } from './problems-api.js';
export type { NewSettingsObject, SettingsObject } from './settings-api.js';
export {
  DynatraceApiError,
  DynatraceFailureType,
  NON_RETRYABLE_DYNATRACE_FAILURES,
  retryDelayFromHeaders,
} from './errors.js';
export { CLUSTER_POOL, type DynatraceHttpOptions } from './http-client.js';
export { inspectInstallerSignature, verifyInstallerSignature } from './installer-signature.js';
