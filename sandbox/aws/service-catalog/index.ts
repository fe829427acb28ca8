import type { EmulatorContext } from './context.js';
import { FaultInjector, type FaultSpec } from './faults.js';
import { IdempotencyLedger } from './idempotency.js';
import {
  artifactView,
  artifactViews,
  emulatorState,
  emulatorStats,
  type ArtifactView,
  type EmulatorState,
} from './inspect.js';
import { RequestJournal, type EmulatorStats, type RequestLogEntry } from './journal.js';
import { settleNow } from './lifecycle.js';
import {
  seedProduct,
  seedProvisionedProduct,
  seedProvisioningArtifact,
  updateProvisionedProduct,
  type SeedArtifactInput,
  type SeededArtifact,
  type SeededProduct,
  type SeededProvisionedProduct,
  type SeedProductInput,
  type SeedProvisionedProductInput,
} from './seed.js';
import { startHttpServer } from './server.js';
import { applySettings, DEFAULT_SETTINGS, type ServiceCatalogEmulatorSettings } from './settings.js';
import { ServiceCatalogStore, type ProvisionedProductStatus } from './store.js';

export { ServiceCatalogError, type ServiceCatalogErrorCode } from './errors.js';
export type { FaultSpec } from './faults.js';
export type { ArtifactView, EmulatorState, ProductView, ProvisionedProductView } from './inspect.js';
export type { EmulatorStats, RequestLogEntry } from './journal.js';
export type { ArtifactStatus } from './lifecycle.js';
export type {
  SeedArtifactInput,
  SeededArtifact,
  SeededProduct,
  SeededProvisionedProduct,
  SeedProductInput,
  SeedProvisionedProductInput,
} from './seed.js';
export type { ServiceCatalogEmulatorSettings, StackTemplateResolver } from './settings.js';
export type { Guidance, ProvisionedProductStatus, Tag } from './store.js';
export { fetchTemplateOverHttp, type ProvisioningArtifactParameter, type TemplateFetcher } from './template.js';

export interface ServiceCatalogEmulatorOptions extends Partial<ServiceCatalogEmulatorSettings> {
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Clock in epoch milliseconds, for CreatedTime and the CREATING → AVAILABLE delay. Default Date.now. */
  now?: () => number;
  /** Source of the random draws behind the fault rates. Default Math.random. */
  random?: () => number;
}

/**
 * An in-memory AWS Service Catalog speaking the AWS JSON 1.1 protocol, for the operations moto lacks. Point the SDK
 * at `url` (`endpoint` option or `AWS_ENDPOINT_URL_SERVICE_CATALOG`); use the methods to seed, steer and inspect.
 */
export interface ServiceCatalogEmulator {
  readonly url: string;
  /** The current knobs (read-only view; change them with `configure`). */
  readonly settings: Readonly<ServiceCatalogEmulatorSettings>;
  stop(): Promise<void>;
  configure(patch: Partial<ServiceCatalogEmulatorSettings>): void;
  /** Forgets all resources, tokens, requests, queued faults and pending failures; keeps the settings. */
  reset(): void;

  seedProduct(input: SeedProductInput): Promise<SeededProduct>;
  seedProvisioningArtifact(productId: string, input: SeedArtifactInput): Promise<SeededArtifact>;
  seedProvisionedProduct(input: SeedProvisionedProductInput): SeededProvisionedProduct;
  updateProvisionedProduct(
    id: string,
    changes: { provisioningArtifactId?: string; status?: ProvisionedProductStatus },
  ): void;
  /** The template of a CloudFormation stack, for CreateProvisioningArtifact with `ImportFromPhysicalId`. */
  registerStackTemplate(stackArn: string, templateText: string): void;

  /** The next `count` (default 1) CreateProvisioningArtifact calls create versions that end in FAILED. */
  failNextArtifactCreations(count?: number): void;
  /** Queues one-off faults for the next matching requests (see FaultSpec). */
  injectFaults(...faults: FaultSpec[]): void;
  /** Ends a version's CREATING phase now. */
  settleArtifact(artifactId: string, outcome?: 'AVAILABLE' | 'FAILED'): void;

  /** Versions (of one product, or all) with their stored template text. */
  listArtifacts(productId?: string): ArtifactView[];
  getArtifact(artifactId: string): ArtifactView | undefined;
  stats(): EmulatorStats;
  requests(operation?: string): RequestLogEntry[];
  state(): EmulatorState;
}

export async function startServiceCatalogEmulator(
  options: ServiceCatalogEmulatorOptions = {},
): Promise<ServiceCatalogEmulator> {
  const { port = 0, host = '127.0.0.1', now = Date.now, random = Math.random, ...patch } = options;
  const settings: ServiceCatalogEmulatorSettings = { ...DEFAULT_SETTINGS };
  applySettings(settings, patch);
  const context: EmulatorContext = {
    store: new ServiceCatalogStore(),
    settings,
    idempotency: new IdempotencyLedger(),
    faults: new FaultInjector(random),
    journal: new RequestJournal(),
    stackTemplates: new Map(),
    now,
    baseUrl: '',
    pendingCreationFailures: 0,
    artifactsCreatedByApi: 0,
  };
  const server = await startHttpServer(context, { port, host });
  context.baseUrl = server.url;

  return {
    url: server.url,
    settings,
    stop: () => server.close(),
    configure: (changes) => applySettings(settings, changes),
    reset: () => {
      context.store.clear();
      context.idempotency.clear();
      context.faults.clear();
      context.journal.clear();
      context.stackTemplates.clear();
      context.pendingCreationFailures = 0;
      context.artifactsCreatedByApi = 0;
    },
    seedProduct: (input) => seedProduct(context, input),
    seedProvisioningArtifact: (productId, input) => seedProvisioningArtifact(context, productId, input),
    seedProvisionedProduct: (input) => seedProvisionedProduct(context, input),
    updateProvisionedProduct: (id, changes) => updateProvisionedProduct(context, id, changes),
    registerStackTemplate: (stackArn, templateText) => {
      context.stackTemplates.set(stackArn, templateText);
    },
    failNextArtifactCreations: (count = 1) => {
      if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`count must be a non-negative integer`);
      context.pendingCreationFailures += count;
    },
    injectFaults: (...faults) => context.faults.enqueue(faults),
    settleArtifact: (artifactId, outcome = 'AVAILABLE') => {
      const artifact = context.store.artifacts.get(artifactId);
      if (artifact === undefined) throw new RangeError(`unknown provisioning artifact ${artifactId}`);
      settleNow(artifact.lifecycle, outcome);
    },
    listArtifacts: (productId) => artifactViews(context, productId),
    getArtifact: (artifactId) => {
      const artifact = context.store.artifacts.get(artifactId);
      return artifact === undefined ? undefined : artifactView(context, artifact);
    },
    stats: () => emulatorStats(context),
    requests: (operation) => context.journal.list(operation),
    state: () => emulatorState(context),
  };
}
