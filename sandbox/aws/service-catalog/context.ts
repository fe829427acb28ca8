import type { FaultInjector } from './faults.js';
import type { IdempotencyLedger } from './idempotency.js';
import type { RequestJournal } from './journal.js';
import type { ServiceCatalogEmulatorSettings } from './settings.js';
import type { ServiceCatalogStore } from './store.js';

/** Everything an operation or a seeding call works with. */
export interface EmulatorContext {
  readonly store: ServiceCatalogStore;
  readonly settings: ServiceCatalogEmulatorSettings;
  readonly idempotency: IdempotencyLedger;
  readonly faults: FaultInjector;
  readonly journal: RequestJournal;
  /** Templates of CloudFormation stacks by stack ARN, for `ImportFromPhysicalId`. */
  readonly stackTemplates: Map<string, string>;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now: () => number;
  /** Base URL of the running server, for template URLs the emulator serves itself. */
  baseUrl: string;
  /** How many of the next CreateProvisioningArtifact calls end in FAILED. */
  pendingCreationFailures: number;
  /** Versions created by CreateProvisioningArtifact since start or reset. */
  artifactsCreatedByApi: number;
}

/** The URL at which the emulator serves a version's stored template (`GET /_emulator/templates/<id>`). */
export const emulatorTemplateUrl = (context: EmulatorContext, artifactId: string) =>
  `${context.baseUrl}/_emulator/templates/${artifactId}`;
