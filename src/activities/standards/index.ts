import { ApplicationFailure } from '@temporalio/common';
import { mapWithConcurrency } from '../../concurrency/map-with-concurrency.js';
import { parseEnvironmentSelector, selects, SelectorError } from '../../shared/environment-selector.js';
import { FailureType } from '../../shared/failure-types.js';
import type { RegisteredEnvironment } from '../../shared/registry.js';
import {
  emptyCounts,
  type DriftRecord,
  type EnvironmentApplyOutcome,
  type PlanCounts,
  type PlannedObject,
  type StandardsPlanSummary,
  type StandardsSet,
} from '../../shared/standards.js';
import { standardsEnvironment } from '../../standards/desired-objects.js';
import { invalidStandardsSet } from '../../standards/validate-standards-set.js';
import { driftKey, type DriftFound, type StandardsStore } from '../../standards/standards-store.js';
import { heartbeatWhile } from '../heartbeat-while.js';
import { StandardsRun, type StandardsRunDeps } from './standards-run.js';

export interface StandardsDeps extends StandardsRunDeps {
  standards: StandardsStore;
}

/** Rows written to the fleet database at once while a plan runs. */
const WRITE_BATCH = 500;

function count(counts: PlanCounts, row: PlannedObject): void {
  counts.objects++;
  if (row.action === 'refused' && row.object === '(environment)') counts.unreadable++;
  else counts[row.action]++;
}

export function createStandardsActivities(deps: StandardsDeps) {
  const { registry, environments } = deps.dynatrace;
  const sets = new Map<string, Promise<StandardsSet>>();

  /** The set by its hash, read once per worker (a set never changes under its hash). */
  function setOf(hash: string): Promise<StandardsSet> {
    let set = sets.get(hash);
    if (!set) {
      set = deps.standards.set(hash).then((found) => {
        if (found) return found;
        sets.delete(hash);
        throw ApplicationFailure.nonRetryable(
          `no standards set ${hash.slice(0, 16)} in the fleet database`,
          FailureType.InvalidWorkflowInput,
        );
      });
      sets.set(hash, set);
    }
    return set;
  }

  /** The registry's environments the selector takes, or a typed failure naming the selector's mistake. */
  async function selected(selectorText: string): Promise<RegisteredEnvironment[]> {
    let selector;
    try {
      selector = parseEnvironmentSelector(selectorText);
    } catch (err) {
      if (err instanceof SelectorError)
        throw ApplicationFailure.nonRetryable(err.message, FailureType.InvalidWorkflowInput);
      throw err;
    }
    const fleet = await registry.list();
    environments.remember(fleet);
    return fleet.filter((e) => selects(selector, standardsEnvironment(e)));
  }

  async function schemaIdsFor(run: StandardsRun): Promise<string[]> {
    return [...new Set([...run.compiled.schemaIds, ...(await deps.standards.appliedSchemaIds())])].sort();
  }

  /**
   * Stores a standards set under its content hash after checking it as the CLI did (a client in any
   * language may start a run): a set that does not hold is a non-retryable `InvalidWorkflowInput`.
   */
  async function recordStandardsSet(input: { set: StandardsSet }): Promise<{ hash: string; standards: number }> {
    const problem = invalidStandardsSet(input.set);
    if (problem)
      throw ApplicationFailure.nonRetryable(`Invalid standards: ${problem}`, FailureType.InvalidWorkflowInput);
    await deps.standards.saveSet(input.set);
    return { hash: input.set.hash, standards: input.set.standards.length };
  }

  /**
   * Plans the set over the selected environments: one settings listing per environment, each
   * cluster's groups and environments once. What needs something is stored as the plan's rows (the
   * CLI pages through them), unchanged objects are only counted. A `drift` plan also records what
   * drifted and resolves what no longer does.
   */
  async function planStandards(input: {
    setHash: string;
    selector: string;
    planId: string;
    purpose: 'plan' | 'apply' | 'drift';
    concurrency: number;
    enforceOnly?: boolean;
  }): Promise<StandardsPlanSummary> {
    const set = await setOf(input.setHash);
    const run = new StandardsRun(deps, set, { enforceOnly: input.enforceOnly ?? false });
    const targets = await selected(input.selector);
    const schemaIds = await schemaIdsFor(run);
    const counts = emptyCounts();
    counts.environments = targets.length;
    await deps.standards.startPlan({
      id: input.planId,
      setHash: set.hash,
      selector: input.selector,
      purpose: input.purpose,
      counts,
    });
    const changed = new Set<string>();
    let drifted = 0;
    const drift: DriftFound[] = [];
    let pending: PlannedObject[] = [];
    const flush = async () => {
      const batch = pending;
      pending = [];
      await deps.standards.addPlanItems(input.planId, batch);
    };
    await heartbeatWhile({ plan: input.planId }, () =>
      mapWithConcurrency(targets, input.concurrency, async (environment) => {
        const plan = await run.planEnvironment(environment, schemaIds);
        const rows = await run.rows(plan);
        for (const row of rows) {
          count(counts, row);
          if (row.action !== 'unchanged') pending.push(row);
          if (input.purpose === 'drift' && (row.action === 'update' || row.action === 'create')) {
            const action = run.writes(row.mode) ? 'reapplied' : 'reported';
            for (const d of row.differences) {
              drift.push({
                environmentId: row.environmentId,
                standard: row.standard,
                object: row.object,
                field: row.action === 'create' ? '(missing)' : d.field,
                old: row.action === 'create' ? null : d.old,
                new: d.new,
                mode: row.mode,
                action,
              });
              if (row.action === 'create') break;
            }
          }
        }
        if (run.needsWrites(plan)) changed.add(environment.id);
        if (rows.some((r) => r.action === 'update' || r.action === 'create')) drifted++;
        if (pending.length >= WRITE_BATCH) await flush();
      }),
    );
    await flush();
    await deps.standards.finishPlan(input.planId, counts);
    if (input.purpose === 'drift') {
      const at = new Date();
      await deps.standards.recordDrift(drift, at);
      await deps.standards.resolveDrift(
        targets.map((t) => t.id),
        new Set(drift.map((d) => driftKey(d.environmentId, d.standard, d.object, d.field))),
        at,
      );
    }
    return {
      planId: input.planId,
      setHash: set.hash,
      selector: input.selector,
      createdAt: new Date().toISOString(),
      counts,
      // In registry order, so batches of an apply follow the same order as the plan's rows.
      changedEnvironments: targets.filter((t) => changed.has(t.id)).map((t) => t.id),
      driftedEnvironments: drifted,
    };
  }

  /**
   * Applies the set to a batch of environments, each planned afresh and written only where it
   * differs. One environment's refusal is its outcome (`needs-attention` with the cluster's message);
   * the batch goes on.
   */
  async function applyStandards(input: {
    setHash: string;
    environmentIds: string[];
    enforceOnly: boolean;
    concurrency: number;
  }): Promise<EnvironmentApplyOutcome[]> {
    const set = await setOf(input.setHash);
    const run = new StandardsRun(deps, set, { enforceOnly: input.enforceOnly });
    const schemaIds = await schemaIdsFor(run);
    const records = new Map((await registry.getMany(input.environmentIds)).map((e) => [e.id, e]));
    environments.remember([...records.values()]);
    return heartbeatWhile({ first: input.environmentIds[0] }, () =>
      mapWithConcurrency(input.environmentIds, input.concurrency, async (environmentId) => {
        const environment = records.get(environmentId);
        if (!environment) {
          return {
            environmentId,
            outcome: 'needs-attention' as const,
            created: 0,
            updated: 0,
            deleted: 0,
            reason: 'no longer in the environment registry',
          };
        }
        return run.applyEnvironment(environment, schemaIds);
      }),
    );
  }

  /** Grants the set's user groups on the given environments, one write per group and cluster. */
  async function applyUserGroupStandards(input: {
    setHash: string;
    environmentIds: string[];
    enforceOnly: boolean;
  }): Promise<EnvironmentApplyOutcome[]> {
    const set = await setOf(input.setHash);
    if (!set.standards.some((s) => s.kind === 'user-group')) return [];
    const run = new StandardsRun(deps, set, { enforceOnly: input.enforceOnly });
    const fleet = await registry.getMany(input.environmentIds);
    return heartbeatWhile({ groups: fleet.length }, () => run.applyGroups(fleet));
  }

  /** From the start of an operator's apply, its set is what the drift schedule holds the fleet to. */
  async function recordApplyStarted(input: { setHash: string; selector: string; run: string }): Promise<void> {
    await deps.standards.applyStarted(input);
  }

  async function recordApplyFinished(input: { run: string; counts: unknown }): Promise<void> {
    await deps.standards.applyFinished(input.run, input.counts);
  }

  /**
   * The set the drift schedule holds the fleet to: the one applied last. While that apply still
   * writes (for up to `quietMinutes`), a drift run would only write the same objects beside it.
   */
  async function standardsToHold(input: {
    quietMinutes: number;
  }): Promise<{ setHash: string; selector: string; applying?: string } | undefined> {
    const last = await deps.standards.lastApplied();
    if (!last) return undefined;
    const applying = !last.finished && Date.now() - last.startedAt.getTime() < input.quietMinutes * 60_000;
    return { setHash: last.setHash, selector: last.selector, ...(applying ? { applying: last.run } : {}) };
  }

  /** Drift that was just re-applied in these environments is resolved. */
  async function resolveReappliedDrift(input: { environmentIds: string[] }): Promise<void> {
    await deps.standards.resolveDrift(input.environmentIds, new Set(), new Date(), 'reapplied');
  }

  async function standardsPlanItems(input: {
    planId: string;
    after?: { environmentId: string; seq: number };
    limit: number;
    changesOnly: boolean;
  }) {
    return deps.standards.planItems(input.planId, input);
  }

  async function standardsDrift(input: {
    selector?: string;
    since?: string;
    openOnly: boolean;
    limit: number;
  }): Promise<DriftRecord[]> {
    const environmentIds = input.selector ? (await selected(input.selector)).map((e) => e.id) : undefined;
    return deps.standards.drift({
      ...(environmentIds ? { environmentIds } : {}),
      ...(input.since ? { since: new Date(input.since) } : {}),
      openOnly: input.openOnly,
      limit: input.limit,
    });
  }

  return {
    recordStandardsSet,
    planStandards,
    applyStandards,
    applyUserGroupStandards,
    recordApplyStarted,
    recordApplyFinished,
    standardsToHold,
    resolveReappliedDrift,
    standardsPlanItems,
    standardsDrift,
  };
}
