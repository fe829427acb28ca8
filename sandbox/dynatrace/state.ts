import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { generateToken, randomAlphanumeric } from './tokens.js';

export interface ClusterToken {
  id: string;
  token: string;
  name: string;
  scopes: string[];
  expiresAt?: number;
}

export interface EnvironmentToken {
  id: string;
  token: string;
  name: string;
  scopes: string[];
  owner: string;
  creationDate: number;
  expirationDate?: number;
  lastUsedDate?: number;
  enabled: boolean;
  personalAccessToken: boolean;
  /** The token management token handed out with an environment; listed like any other token. */
  kind: 'api' | 'tokenManagement' | 'v1';
}

export interface HostTag {
  context: string;
  key: string;
  value?: string;
}

export interface HostEntity {
  entityId: string;
  hostName: string;
  detectedName: string;
  customHostName?: string;
  hostGroup?: string;
  tags: HostTag[];
  /** Extra properties (`--set-host-property`, EC2 metadata seeded by tests). */
  properties: Record<string, string>;
  installerVersion: string;
  monitoringMode: 'FULL_STACK' | 'INFRA_ONLY' | 'DISCOVERY';
  osType: 'LINUX';
  ipAddresses: string[];
  awsInstanceId?: string;
  awsInstanceType?: string;
  firstSeenTms: number;
  lastSeenTms: number;
  /** RUNNING hosts are continuously "seen"; SHUTDOWN ones keep their last timestamp. */
  state: 'RUNNING' | 'SHUTDOWN';
}

export interface ProblemComment {
  id: string;
  content: string;
  authorName: string;
  context: string | null;
  createdAtTimestamp: number;
}

export interface ProblemRecord {
  problemId: string;
  displayId: string;
  title: string;
  kind: string;
  /**
   * The v2 evidence's event type. Real environments report the classic name (`CPU_SATURATED`) there,
   * while alerting-profile filters use `OSI_HIGH_CPU` (reference §13); both shapes can be raised.
   */
  evidenceEventType: string;
  /** The name alerting-profile predefined filters match. */
  alertingEventType: string;
  eventTypeV1: string;
  severityLevel: string;
  impactLevel: 'INFRASTRUCTURE' | 'SERVICES' | 'APPLICATION' | 'ENVIRONMENT';
  status: 'OPEN' | 'CLOSED';
  startTime: number;
  endTime: number;
  /** The host the event is on. */
  entityId: string;
  entityName: string;
  entityType: string;
  /**
   * What the problem impacts when that is not the host itself: a service or an application on it.
   * The host is then only the root cause or among the affected entities (reference §13).
   */
  impacted?: { entityId: string; name: string; type: 'SERVICE' | 'APPLICATION' };
  hostRole?: 'root-cause' | 'affected';
  cpuLoad?: number;
  comments: ProblemComment[];
  /** Which notification objects were told about the opening, so only they hear of the closing. */
  notifiedOpen: string[];
}

export interface SettingsObject {
  objectId: string;
  schemaId: string;
  schemaVersion: string;
  scope: string;
  externalId?: string;
  value: Record<string, unknown>;
  created: number;
  modified: number;
  updateToken: string;
}

export interface EnvironmentRecord {
  id: string;
  name: string;
  state: 'ENABLED' | 'DISABLED';
  trial: boolean;
  tags: string[];
  quotas?: Record<string, unknown>;
  storage?: Record<string, unknown>;
  creationDate: string;
  createdAt: number;
  tenantToken: string;
  tokens: Map<string, EnvironmentToken>;
  hosts: Map<string, HostEntity>;
  problems: Map<string, ProblemRecord>;
  settings: Map<string, SettingsObject>;
}

export interface GroupRecord {
  id: string;
  name: string;
  isClusterAdminGroup: boolean;
  isAccessAccount: boolean;
  isManageAccount: boolean;
  ldapGroupNames: string[];
  ssoGroupNames: string[];
  accessRight: Record<string, string[]>;
}

export interface InstallerSigningMaterial {
  certificatePem: string;
  privateKeyPem: string;
}

type TokenOwner =
  { kind: 'cluster'; token: ClusterToken } | { kind: 'environment'; environmentId: string; token: EnvironmentToken };

/** The cluster's whole state. Only this class mutates it; the routes call its methods. */
export class SimulatorState {
  readonly clusterTokens = new Map<string, ClusterToken>();
  readonly environments = new Map<string, EnvironmentRecord>();
  readonly groups = new Map<string, GroupRecord>();
  installerVersions: string[] = ['1.301.42.20260915-101500', '1.303.17.20261028-142030'];
  signing?: InstallerSigningMaterial;
  private readonly tokenIndex = new Map<string, TokenOwner>();
  private problemCounter = 24_000;

  // --- tokens -------------------------------------------------------------------------------

  createClusterToken(name: string, scopes: string[], expiresAt?: number): ClusterToken {
    const { id, token } = generateToken();
    const record: ClusterToken = { id, token, name, scopes, ...(expiresAt ? { expiresAt } : {}) };
    this.clusterTokens.set(id, record);
    this.tokenIndex.set(token, { kind: 'cluster', token: record });
    return record;
  }

  createEnvironmentToken(
    environment: EnvironmentRecord,
    fields: Pick<EnvironmentToken, 'name' | 'scopes' | 'owner' | 'kind'> & { expirationDate?: number },
  ): EnvironmentToken {
    const { id, token } = generateToken();
    const record: EnvironmentToken = {
      id,
      token,
      name: fields.name,
      scopes: fields.scopes,
      owner: fields.owner,
      kind: fields.kind,
      creationDate: Date.now(),
      enabled: true,
      personalAccessToken: false,
      ...(fields.expirationDate ? { expirationDate: fields.expirationDate } : {}),
    };
    environment.tokens.set(id, record);
    this.tokenIndex.set(token, { kind: 'environment', environmentId: environment.id, token: record });
    return record;
  }

  /** Values of revoked environment tokens, for tests that look for secrets where none may be. */
  readonly revokedTokenValues: string[] = [];

  revokeEnvironmentToken(environment: EnvironmentRecord, id: string): boolean {
    const record = environment.tokens.get(id);
    if (!record) return false;
    environment.tokens.delete(id);
    this.tokenIndex.delete(record.token);
    // Kept (in memory only) so leak tests can look for values that no longer work, too.
    this.revokedTokenValues.push(record.token);
    return true;
  }

  findToken(token: string): TokenOwner | undefined {
    return this.tokenIndex.get(token);
  }

  // --- environments -------------------------------------------------------------------------

  createEnvironment(
    fields: Omit<
      EnvironmentRecord,
      'tokens' | 'hosts' | 'problems' | 'settings' | 'tenantToken' | 'createdAt' | 'creationDate'
    >,
  ): EnvironmentRecord {
    const now = Date.now();
    const record: EnvironmentRecord = {
      ...fields,
      creationDate: new Date(now).toISOString(),
      createdAt: now,
      tenantToken: randomAlphanumeric(16, 'abcdefghijklmnopqrstuvwxyz0123456789'),
      tokens: new Map(),
      hosts: new Map(),
      problems: new Map(),
      settings: new Map(),
    };
    this.environments.set(record.id, record);
    return record;
  }

  deleteEnvironment(id: string): void {
    const environment = this.environments.get(id);
    if (!environment) return;
    for (const token of environment.tokens.values()) this.tokenIndex.delete(token.token);
    this.environments.delete(id);
    for (const group of this.groups.values()) {
      for (const [permission, envs] of Object.entries(group.accessRight)) {
        group.accessRight[permission] = envs.filter((e) => e !== id);
      }
    }
  }

  // --- hosts and problems -------------------------------------------------------------------

  /** Entity ids are stable per environment and host name, as a re-installed agent keeps its host id. */
  hostEntityId(environmentId: string, hostName: string): string {
    const hash = createHash('sha256').update(`${environmentId}:${hostName.toLowerCase()}`).digest('hex');
    return `HOST-${hash.slice(0, 16).toUpperCase()}`;
  }

  nextProblemIds(startTime: number): { problemId: string; displayId: string } {
    this.problemCounter++;
    const digits = createHash('sha256').update(`${this.problemCounter}:${startTime}`).digest();
    const magnitude = (digits.readBigUInt64BE(0) % 9_000_000_000_000_000_000n) + 1_000_000_000_000_000_000n;
    // Real problem ids often start with "-" (reference §0.4): half of ours do too.
    const sign = digits[8]! % 2 === 0 ? '-' : '';
    return { problemId: `${sign}${magnitude}_${startTime}V2`, displayId: `P-${this.problemCounter}` };
  }

  findProblem(problemId: string): { environment: EnvironmentRecord; problem: ProblemRecord } | undefined {
    for (const environment of this.environments.values()) {
      const problem = environment.problems.get(problemId);
      if (problem) return { environment, problem };
    }
    return undefined;
  }

  // --- persistence --------------------------------------------------------------------------

  toJSON(): unknown {
    return {
      version: 1,
      clusterTokens: [...this.clusterTokens.values()],
      groups: [...this.groups.values()],
      installerVersions: this.installerVersions,
      signing: this.signing,
      problemCounter: this.problemCounter,
      environments: [...this.environments.values()].map((e) => ({
        ...e,
        tokens: [...e.tokens.values()],
        hosts: [...e.hosts.values()],
        problems: [...e.problems.values()],
        settings: [...e.settings.values()],
      })),
    };
  }

  static fromJSON(data: unknown): SimulatorState {
    const d = data as {
      clusterTokens: ClusterToken[];
      groups: GroupRecord[];
      installerVersions: string[];
      signing?: InstallerSigningMaterial;
      problemCounter: number;
      environments: (Omit<EnvironmentRecord, 'tokens' | 'hosts' | 'problems' | 'settings'> & {
        tokens: EnvironmentToken[];
        hosts: HostEntity[];
        problems: ProblemRecord[];
        settings: SettingsObject[];
      })[];
    };
    const state = new SimulatorState();
    for (const t of d.clusterTokens) {
      state.clusterTokens.set(t.id, t);
      state.tokenIndex.set(t.token, { kind: 'cluster', token: t });
    }
    for (const g of d.groups) state.groups.set(g.id, g);
    state.installerVersions = d.installerVersions;
    if (d.signing) state.signing = d.signing;
    state.problemCounter = d.problemCounter;
    for (const e of d.environments) {
      const record: EnvironmentRecord = {
        ...e,
        tokens: new Map(e.tokens.map((t) => [t.id, t])),
        hosts: new Map(e.hosts.map((h) => [h.entityId, h])),
        problems: new Map(e.problems.map((p) => [p.problemId, withEventTypes(p)])),
        settings: new Map(e.settings.map((s) => [s.objectId, s])),
      };
      state.environments.set(e.id, record);
      for (const t of e.tokens) state.tokenIndex.set(t.token, { kind: 'environment', environmentId: e.id, token: t });
    }
    return state;
  }

  static load(file: string): SimulatorState | undefined {
    if (!existsSync(file)) return undefined;
    return SimulatorState.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
  }

  save(file: string): void {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.toJSON()), { mode: 0o600 });
    renameSync(tmp, file);
  }
}

/** State files written before the evidence and alerting names were told apart carry one name for both. */
function withEventTypes(p: ProblemRecord & { eventTypeV2?: string }): ProblemRecord {
  if (p.evidenceEventType && p.alertingEventType) return p;
  const { eventTypeV2, ...rest } = p;
  return { ...rest, evidenceEventType: eventTypeV2 ?? p.eventTypeV1, alertingEventType: eventTypeV2 ?? p.eventTypeV1 };
}
