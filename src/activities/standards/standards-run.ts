import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Environment, UserGroup } from '../../dynatrace/cluster-api.js';
import { DynatraceApiError, NON_RETRYABLE_DYNATRACE_FAILURES } from '../../dynatrace/errors.js';
import { collect } from '../../dynatrace/pagination.js';
import { mapWithConcurrency } from '../../concurrency/map-with-concurrency.js';
import type { NewSettingsObject, SettingsApi } from '../../dynatrace/settings-api.js';
import type { SecretSource } from '../../config/secret.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { DEFAULT_WEBHOOK_KEY_HEADER } from '../../shared/webhook.js';
import type { RegisteredEnvironment } from '../../shared/registry.js';
import type { EnvironmentApplyOutcome, PlannedObject, StandardMode, StandardsSet } from '../../shared/standards.js';
import { CompiledStandards, standardsEnvironment, type DesiredQuotas } from '../../standards/desired-objects.js';
import { isSecretMarker, referencedSecrets, type AutopilotPlaceholders } from '../../standards/placeholders.js';
import { planGroup, planQuotas, quotasToSend, type ClusterObjectPlan } from '../../standards/plan-cluster-objects.js';
import { planSettings, resolveRefs, type SettingsObjectPlan } from '../../standards/plan-settings.js';
import { foreignSecrets, STANDARDS_SECRETS_RULE, WEBHOOK_KEY_SECRET } from '../../standards/standards-secrets.js';
import { FailureType } from '../../shared/failure-types.js';
import { WebhookKeys, type WebhookKeyMode } from '../../webhook/webhook-keys.js';
import { clusterApi, type DynatraceAccess } from '../dynatrace-access.js';

export { WEBHOOK_KEY_SECRET };

export interface StandardsRunDeps {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
  webhook: {
    publicUrl: string | undefined;
    /** The master key. */
    apiKey: SecretSource | undefined;
    keyHeader?: string;
    /** Default `per-environment`. */
    keyMode?: WebhookKeyMode;
  };
}

/** What the standards need in one environment, and what could not be found out. */
export interface EnvironmentPlan {
  environmentId: string;
  settings: SettingsObjectPlan[];
  groups: ClusterObjectPlan[];
  quotas: (ClusterObjectPlan & { desired: DesiredQuotas })[];
  /** Standards that cannot be planned here (a render error, a missing secret). */
  refused: { standard: string; mode: StandardMode; kind: PlannedObject['kind']; object: string; error: string }[];
  /** The environment could not be read; nothing else is known. */
  unreadable?: string;
}

const WRITES = new Set(['create', 'update', 'delete']);
/** Distinct groups written at once per cluster; each group is written once, so they cannot undo each other. */
const GROUP_WRITES_AT_ONCE = 10;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);

/** A refusal retries cannot change (a schema constraint, a missing object): the environment needs a person. */
const isRefusal = (err: unknown) =>
  (err instanceof DynatraceApiError && NON_RETRYABLE_DYNATRACE_FAILURES.includes(err.type ?? '')) ||
  (err instanceof ApplicationFailure && err.nonRetryable);

/**
 * One plan or apply of a standards set: the set compiled once, each cluster's groups and
 * environments read at most once, the secrets the set refers to read once, and every environment
 * reached through its registry record with the automation token Autopilot holds there.
 */
export class StandardsRun {
  readonly compiled: CompiledStandards;
  private readonly groups = new Map<string, Promise<UserGroup[]>>();
  private readonly clusterEnvironments = new Map<string, Promise<Map<string, Environment>>>();
  private secretValues: Promise<Map<string, string | undefined>> | undefined;

  private readonly webhookKeys: WebhookKeys | undefined;

  constructor(
    private readonly deps: StandardsRunDeps,
    readonly set: StandardsSet,
    private readonly options: { enforceOnly: boolean },
  ) {
    // Sets reach a run by hash from the fleet database, where one may lie that was stored before
    // standards were limited to their own secrets: it is refused before any secret is read.
    const foreign = foreignSecrets(set.standards);
    if (foreign.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `Standards ${set.hash.slice(0, 16)} name secrets no standard may use (${foreign.join(', ')}): ` +
          `${STANDARDS_SECRETS_RULE}; apply a corrected folder`,
        FailureType.InvalidWorkflowInput,
      );
    }
    this.compiled = new CompiledStandards(set);
    const master = deps.webhook.apiKey;
    this.webhookKeys = master
      ? new WebhookKeys({ master, mode: deps.webhook.keyMode ?? 'per-environment' })
      : undefined;
  }

  /** What the `autopilot.*` placeholders stand for in this environment. */
  private ownFor(environmentId: string): AutopilotPlaceholders {
    return {
      webhookPublicUrl: this.deps.webhook.publicUrl,
      webhookKeyHeader: this.deps.webhook.keyHeader ?? DEFAULT_WEBHOOK_KEY_HEADER,
      // The key cannot be read back from Dynatrace; its fingerprint tells a rotated key from an unchanged one.
      webhookKeyId: this.webhookKeys?.keyIdFor(environmentId),
    };
  }

  /** Whether this run writes objects of a standard in this mode (a drift run writes `enforce` ones only). */
  writes(mode: StandardMode): boolean {
    return !this.options.enforceOnly || mode === 'enforce';
  }

  /**
   * The secret-store secrets the set names, by reference, read once per run: for writing them, and
   * for keeping them out of every plan. The webhook key is not among them: it is each environment's own.
   */
  private secrets(): Promise<Map<string, string | undefined>> {
    this.secretValues ??= (async () => {
      const refs = new Set(referencedSecrets(this.set.standards));
      refs.delete(WEBHOOK_KEY_SECRET);
      const entries = await Promise.all(
        [...refs].map(async (ref) => [ref, (await this.deps.secrets.get(ref))?.value] as const),
      );
      return new Map(entries);
    })();
    return this.secretValues;
  }

  /** The secrets the set names, as written into this environment: the store's, and the environment's own webhook key. */
  private async secretsFor(environmentId: string): Promise<Map<string, string | undefined>> {
    const secrets = new Map(await this.secrets());
    if (referencedSecrets(this.set.standards).includes(WEBHOOK_KEY_SECRET)) {
      secrets.set(WEBHOOK_KEY_SECRET, this.webhookKeys?.keyFor(environmentId));
    }
    return secrets;
  }

  /** Any secret value the standards use in this environment, wherever a cluster echoes it, is replaced by its reference. */
  async scrub<T>(value: T, environmentId: string): Promise<T> {
    const secrets = [...(await this.secretsFor(environmentId)).entries()].filter(
      ([, v]) => v !== undefined && v.length >= 4,
    );
    if (secrets.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string')
        return secrets.reduce((s, [ref, secret]) => s.split(secret!).join(`(secret ${ref})`), v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

  private clusterGroups(cluster: string): Promise<UserGroup[]> {
    let groups = this.groups.get(cluster);
    if (!groups) {
      groups = clusterApi(this.deps.dynatrace, cluster).api.listGroups();
      this.groups.set(cluster, groups);
    }
    return groups;
  }

  private environmentsOf(cluster: string): Promise<Map<string, Environment>> {
    let environments = this.clusterEnvironments.get(cluster);
    if (!environments) {
      environments = clusterApi(this.deps.dynatrace, cluster)
        .api.listAllEnvironments()
        .then((list) => new Map(list.map((e) => [e.id, e])));
      this.clusterEnvironments.set(cluster, environments);
    }
    return environments;
  }

  /**
   * Plans one environment with one settings listing (every schema the standards use, and those of
   * earlier sets where objects of ours may be left over), its cluster's groups and environments from
   * the run's cache.
   */
  async planEnvironment(environment: RegisteredEnvironment, schemaIds: readonly string[]): Promise<EnvironmentPlan> {
    const plan: EnvironmentPlan = { environmentId: environment.id, settings: [], groups: [], quotas: [], refused: [] };
    const desired = this.compiled.desiredFor(standardsEnvironment(environment), this.ownFor(environment.id));
    for (const e of desired.errors) {
      plan.refused.push({
        standard: e.standard,
        mode: 'enforce',
        kind: 'settings',
        object: e.standard,
        error: e.error,
      });
    }
    const secrets = await this.secretsFor(environment.id);
    const missingSecret = (value: unknown): string | undefined => {
      if (isSecretMarker(value)) return secrets.get(value.$secret) === undefined ? value.$secret : undefined;
      if (Array.isArray(value)) return value.map(missingSecret).find(Boolean);
      if (value && typeof value === 'object') return Object.values(value).map(missingSecret).find(Boolean);
      return undefined;
    };
    const settings = desired.settings.filter((d) => {
      const missing = missingSecret(d.value);
      if (missing === undefined) return true;
      plan.refused.push({
        standard: d.standard,
        mode: d.mode,
        kind: 'settings',
        object: `${d.schemaId} (${d.standard})`,
        error:
          missing === WEBHOOK_KEY_SECRET
            ? `the webhook key ${missing} needs WEBHOOK_API_KEY, the master key the environments' webhook keys are derived from`
            : `the secret ${missing} is not in the secret store: put it there first (autopilot secrets, or the store itself)`,
      });
      return false;
    });
    try {
      const listed =
        schemaIds.length === 0
          ? []
          : await this.deps.dynatrace.environments.withApi(environment.id, 'automation', ({ settings: api }) =>
              collect(api.list({ schemaIds: [...schemaIds], pageSize: 500 })),
            );
      plan.settings = planSettings(settings, listed, { prune: this.set.prune });
      if (desired.groups.length > 0 || desired.quotas.length > 0) {
        if (environment.kind !== 'managed' || !environment.cluster) {
          const why =
            'user groups and quotas are managed through a Managed cluster, and this environment is not on one';
          for (const g of desired.groups) {
            plan.refused.push({
              standard: g.standard,
              mode: g.mode,
              kind: 'user-group',
              object: `user group "${g.group.name}"`,
              error: why,
            });
          }
          for (const q of desired.quotas) {
            plan.refused.push({
              standard: q.standard,
              mode: q.mode,
              kind: 'environment-quotas',
              object: 'environment quotas',
              error: why,
            });
          }
        } else {
          if (desired.groups.length > 0) {
            const groups = await this.clusterGroups(environment.cluster);
            plan.groups = desired.groups.map((g) => planGroup(g, environment.id, groups));
          }
          if (desired.quotas.length > 0) {
            const onCluster = (await this.environmentsOf(environment.cluster)).get(environment.id);
            plan.quotas = desired.quotas.map((q) => ({ ...planQuotas(q, onCluster), desired: q }));
          }
        }
      }
    } catch (err) {
      if (!isRefusal(err)) throw err;
      plan.unreadable = message(err);
    }
    return plan;
  }

  /** The plan as rows: every object, unchanged ones included (the caller counts and keeps what it needs). */
  async rows(plan: EnvironmentPlan): Promise<PlannedObject[]> {
    const environmentId = plan.environmentId;
    if (plan.unreadable) {
      return [
        {
          environmentId,
          standard: '*',
          kind: 'settings',
          object: '(environment)',
          action: 'refused',
          mode: 'enforce',
          differences: [],
          error: plan.unreadable,
        },
      ];
    }
    const rows: PlannedObject[] = [
      ...plan.settings.map((p) => ({
        environmentId,
        standard: p.standard,
        kind: 'settings' as const,
        object: p.object,
        action: p.action,
        mode: p.mode,
        differences: p.differences,
      })),
      ...plan.groups.map((p) => ({ environmentId, kind: 'user-group' as const, ...p })),
      ...plan.quotas.map(({ desired: _d, ...p }) => ({ environmentId, kind: 'environment-quotas' as const, ...p })),
      ...plan.refused.map((r) => ({ environmentId, ...r, action: 'refused' as const, differences: [] })),
    ];
    return this.scrub(rows, environmentId);
  }

  /** Whether applying would write anything in the environment (for this run's purpose). */
  needsWrites(plan: EnvironmentPlan): boolean {
    return (
      plan.settings.some((p) => WRITES.has(p.action) && this.writes(p.mode)) ||
      plan.groups.some((p) => WRITES.has(p.action) && this.writes(p.mode)) ||
      plan.quotas.some((p) => WRITES.has(p.action) && this.writes(p.mode))
    );
  }

  /**
   * Brings one environment's settings objects and quotas to what the standards say (groups are the
   * cluster's, see `applyGroups`). Planned afresh first, so a retry after a crash writes only what
   * is still missing. Creates of one dependency level go in one request; references to objects
   * created before are filled in. A refusal (a schema constraint, a missing secret) makes the
   * environment need attention with the cluster's message; throttling and server errors are thrown
   * for Temporal to retry.
   */
  async applyEnvironment(
    environment: RegisteredEnvironment,
    schemaIds: readonly string[],
  ): Promise<EnvironmentApplyOutcome> {
    const outcome: EnvironmentApplyOutcome = {
      environmentId: environment.id,
      outcome: 'unchanged',
      created: 0,
      updated: 0,
      deleted: 0,
    };
    const plan = await this.planEnvironment(environment, schemaIds);
    const orphans = plan.settings
      .filter((p) => p.action === 'orphan')
      .map((p) => `${p.object} ${p.existing!.objectId}`);
    if (orphans.length > 0) outcome.orphans = orphans;
    const reasons: string[] = [];
    if (plan.unreadable) reasons.push(plan.unreadable);
    for (const r of plan.refused) if (this.writes(r.mode)) reasons.push(`${r.object}: ${r.error}`);

    const settingsWrites = plan.settings.filter((p) => WRITES.has(p.action) && this.writes(p.mode));
    if (settingsWrites.length > 0) {
      await this.deps.dynatrace.environments.withApi(environment.id, 'automation', async ({ settings }) => {
        await this.writeSettings(environment.id, settings, plan.settings, settingsWrites, outcome, reasons);
      });
    }
    for (const q of plan.quotas.filter((p) => p.action === 'update' && this.writes(p.mode))) {
      try {
        const { api } = clusterApi(this.deps.dynatrace, environment.cluster);
        const current = await api.getEnvironment(environment.id);
        if (!current)
          throw ApplicationFailure.nonRetryable(`${environment.id} is not on cluster ${environment.cluster}`);
        if (planQuotas(q.desired, current).action === 'unchanged') continue;
        await api.putEnvironment(environment.id, {
          name: current.name,
          tags: current.tags ?? [],
          state: current.state ?? 'ENABLED',
          quotas: quotasToSend(q.desired, current),
        });
        outcome.updated++;
      } catch (err) {
        if (!isRefusal(err)) throw err;
        reasons.push(`environment quotas (${q.standard}): ${message(err)}`);
      }
    }
    if (reasons.length > 0) {
      outcome.outcome = 'needs-attention';
      outcome.reason = await this.scrub(reasons.join('; '), environment.id);
    } else if (outcome.created + outcome.updated + outcome.deleted > 0) {
      outcome.outcome = 'applied';
    }
    return outcome;
  }

  private async writeSettings(
    environmentId: string,
    api: SettingsApi,
    all: readonly SettingsObjectPlan[],
    writes: readonly SettingsObjectPlan[],
    outcome: EnvironmentApplyOutcome,
    reasons: string[],
  ): Promise<void> {
    const secrets = await this.secretsFor(environmentId);
    const objectIds = new Map<string, string>();
    for (const p of all) if (p.existing && p.desired) objectIds.set(p.standard, p.existing.objectId);
    const withSecrets = (value: unknown): unknown => {
      if (isSecretMarker(value)) return secrets.get(value.$secret);
      if (Array.isArray(value)) return value.map(withSecrets);
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSecrets(v)]));
      }
      return value;
    };
    const refused = new Set<string>();
    const refuse = (p: SettingsObjectPlan, err: unknown) => {
      refused.add(p.standard);
      reasons.push(`${p.object}: ${message(err)}`);
    };

    // Level by level: an object is written once every object it refers to has an id.
    const pending = writes.filter((p) => p.action !== 'delete');
    while (pending.length > 0) {
      const ready = pending.filter((p) =>
        (p.desired?.refersTo ?? []).every((ref) => objectIds.has(ref) || !pending.some((q) => q.standard === ref)),
      );
      if (ready.length === 0) break;
      for (const p of ready) pending.splice(pending.indexOf(p), 1);
      const blocked = ready.filter((p) =>
        (p.desired?.refersTo ?? []).some((ref) => refused.has(ref) || !objectIds.has(ref)),
      );
      for (const p of blocked)
        refuse(p, new Error(`refers to ${p.desired!.refersTo.join(', ')}, which could not be written`));
      const level = ready.filter((p) => !blocked.includes(p));
      const value = (p: SettingsObjectPlan) =>
        withSecrets(resolveRefs(p.desired!.value, objectIds)) as Record<string, unknown>;

      const creates = level.filter((p) => p.action === 'create');
      if (creates.length > 0) {
        const results = await api.createEach(
          creates.map((p): NewSettingsObject => ({
            schemaId: p.desired!.schemaId,
            scope: p.desired!.scope,
            externalId: p.desired!.externalId,
            value: value(p),
          })),
        );
        results.forEach((r, i) => {
          const p = creates[i]!;
          if (r.objectId) {
            objectIds.set(p.standard, r.objectId);
            outcome.created++;
          } else if (r.error?.status === 409) {
            // Created by a run that died before it could tell: the next plan finds it by its external id.
            log.info('Settings object already exists under our external id', { externalId: p.desired!.externalId });
          } else if (r.error && isRefusal(r.error)) refuse(p, r.error);
          else if (r.error) throw r.error;
        });
      }
      for (const p of level.filter((u) => u.action === 'update')) {
        try {
          await api.update(p.existing!.objectId, value(p));
          outcome.updated++;
        } catch (err) {
          if (!isRefusal(err)) throw err;
          refuse(p, err);
        }
      }
    }
    for (const p of writes.filter((d) => d.action === 'delete')) {
      try {
        await api.delete(p.existing!.objectId);
        outcome.deleted++;
      } catch (err) {
        if (err instanceof DynatraceApiError && err.status === 404) continue;
        if (!isRefusal(err)) throw err;
        refuse(p, err);
      }
    }
  }

  /**
   * Grants the standards' user groups on the environments, one cluster at a time and one write per
   * group: a group shared by many environments gets all of them in one PUT, so concurrent writers
   * never undo each other's grants. Returns an outcome for every environment a group was written
   * for or refused for.
   */
  async applyGroups(environments: readonly RegisteredEnvironment[]): Promise<EnvironmentApplyOutcome[]> {
    const outcomes = new Map<string, EnvironmentApplyOutcome>();
    const outcomeOf = (environmentId: string) => {
      let o = outcomes.get(environmentId);
      if (!o) {
        o = { environmentId, outcome: 'unchanged', created: 0, updated: 0, deleted: 0 };
        outcomes.set(environmentId, o);
      }
      return o;
    };
    const byCluster = new Map<string, RegisteredEnvironment[]>();
    for (const e of environments) {
      if (e.kind !== 'managed' || !e.cluster) continue;
      byCluster.set(e.cluster, [...(byCluster.get(e.cluster) ?? []), e]);
    }
    await Promise.all([...byCluster].map(([cluster, members]) => this.applyClusterGroups(cluster, members, outcomeOf)));
    for (const o of outcomes.values()) {
      if (o.outcome !== 'needs-attention' && o.created + o.updated > 0) o.outcome = 'applied';
    }
    return [...outcomes.values()];
  }

  /** One cluster's groups: each written once, several at a time within the cluster's own cap. */
  private async applyClusterGroups(
    cluster: string,
    members: readonly RegisteredEnvironment[],
    outcomeOf: (environmentId: string) => EnvironmentApplyOutcome,
  ): Promise<void> {
    const { api } = clusterApi(this.deps.dynatrace, cluster);
    const groups = await api.listGroups();
    // Per group name: the permissions to add on which environments, and the LDAP names.
    type Wanted = { rights: Map<string, Set<string>>; ldap: Set<string>; environments: Set<string> };
    const wanted = new Map<string, Wanted>();
    for (const e of members) {
      const desired = this.compiled
        .desiredFor(standardsEnvironment(e), this.ownFor(e.id))
        .groups.filter((g) => this.writes(g.mode));
      for (const g of desired) {
        if (planGroup(g, e.id, groups).action === 'unchanged') continue;
        const w: Wanted = wanted.get(g.group.name) ?? { rights: new Map(), ldap: new Set(), environments: new Set() };
        for (const p of g.group.permissions) w.rights.set(p, (w.rights.get(p) ?? new Set<string>()).add(e.id));
        for (const n of g.group.ldapGroupNames) w.ldap.add(n);
        w.environments.add(e.id);
        wanted.set(g.group.name, w);
      }
    }
    await mapWithConcurrency([...wanted], GROUP_WRITES_AT_ONCE, async ([name, w]) => {
      const existing = groups.find((g) => g.name === name);
      const accessRight: Record<string, string[]> = { ...(existing?.accessRight ?? {}) };
      for (const [permission, ids] of w.rights) {
        accessRight[permission] = [...new Set([...(accessRight[permission] ?? []), ...ids])];
      }
      const ldapGroupNames = [...new Set([...(existing?.ldapGroupNames ?? []), ...w.ldap])];
      try {
        if (existing) {
          await api.updateGroup({ ...existing, accessRight, ldapGroupNames });
          for (const id of w.environments) outcomeOf(id).updated++;
        } else {
          await api.createGroup({ name, accessRight, ldapGroupNames });
          for (const id of w.environments) outcomeOf(id).created++;
        }
      } catch (err) {
        if (!isRefusal(err)) throw err;
        for (const id of w.environments) {
          const o = outcomeOf(id);
          o.outcome = 'needs-attention';
          o.reason = `${o.reason ? `${o.reason}; ` : ''}user group "${name}": ${message(err)}`;
        }
      }
    });
  }
}
