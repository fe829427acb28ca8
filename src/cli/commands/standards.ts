import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { loadConfig } from '../../config/config.js';
import { runStandardsPlan, standardsRequest, startStandardsApply } from '../../client/start-standards.js';
import { parseEnvironmentSelector, SelectorError } from '../../shared/environment-selector.js';
import type {
  PlannedObject,
  StandardsApplyProgress,
  StandardsPlanSummary,
  StandardsRequestResult,
  StandardsSet,
} from '../../shared/standards.js';
import { hasChanges } from '../../shared/standards.js';
import { InvalidStandardsError, loadStandards } from '../../standards/load-standards.js';
import { standardsProgressQuery } from '../../workflows/shared/standards-signals.js';
import { CliError } from '../cli-error.js';
import { connect, type CliContext } from '../context.js';
import type { Print } from '../output.js';

/** `standards plan` found changes to make. */
export const CHANGES_PLANNED_EXIT_CODE = 5;

export const standardsUsage = `autopilot standards validate|plan|apply|drift [--standards <folder>] [--environments <selector>] [--json]
                      plan [--all]  apply [--concurrency <n>] [--wait]  drift [--since 24h] [--resolved]`;

const HELP = [
  standardsUsage,
  '',
  'Configuration standards as code, kept in a folder of YAML files (AUTOPILOT_STANDARDS_DIR, or --standards).',
  '  validate   check the folder: every mistake as file:line: field message; nothing runs while one is left',
  '  plan       what apply would do, per environment and object, with the fields that differ',
  '             (--all lists unchanged objects too)',
  '  apply      a durable run over every targeted environment (workflow standards:<hash>; applying the same',
  '             standards again attaches to it); --wait shows its progress until it is done',
  '  drift      what the standards-drift schedule found: open drift, or --resolved too, --since 24h|7d|<ISO time>',
  '',
  `Exit codes (plan): 0 nothing to do, ${CHANGES_PLANNED_EXIT_CODE} changes planned, 1 failed (an environment could not be`,
  'read or refuses an object: its rows say why), 2 invalid standards or usage.',
  'Exit codes (apply --wait): 0 applied, 3 an environment needs attention (retry or skip it:',
  '`autopilot retry|skip <workflowId> --environment <id|*>`), 1 failed.',
].join('\n');

const PAGE = 1000;
const ICON: Record<PlannedObject['action'], string> = {
  create: '+',
  update: '~',
  delete: '-',
  unchanged: '=',
  orphan: '?',
  refused: '!',
};

/** A value as one line of a plan: compact JSON, cut short past what a terminal shows. */
function shown(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function loaded(folder: string): StandardsSet {
  try {
    return loadStandards(folder);
  } catch (err) {
    if (err instanceof InvalidStandardsError) throw new CliError(err.message, 2);
    throw err;
  }
}

function selectorOf(text: string | undefined): string {
  const selector = text ?? '*';
  try {
    parseEnvironmentSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) throw new CliError(`--environments: ${err.message}`, 2);
    throw err;
  }
  return selector;
}

const origin = (set: StandardsSet) =>
  `${set.origin.path}${set.origin.commit ? ` @ ${set.origin.commit.slice(0, 12)}${set.origin.dirty ? ' (with uncommitted changes)' : ''}` : ''}`;

function countsLine(summary: StandardsPlanSummary): string {
  const c = summary.counts;
  return (
    `${c.environments} environment(s): ${c.create} to create, ${c.update} to update, ${c.delete} to delete, ` +
    `${c.unchanged} unchanged, ${c.orphan} orphan(s) of ours no standard declares, ${c.refused} refused, ` +
    `${c.unreadable} unreadable`
  );
}

export async function standardsCommand(argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      standards: { type: 'string' },
      environments: { type: 'string' },
      concurrency: { type: 'string' },
      since: { type: 'string' },
      resolved: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [action] = positionals;
  if (values.help || action === 'help') {
    print(HELP);
    return 0;
  }
  if (!action || !['validate', 'plan', 'apply', 'drift'].includes(action) || positionals.length > 1) {
    throw new CliError(`usage: ${standardsUsage}`);
  }
  const folder = () => values.standards ?? loadConfig().standards.dir;

  if (action === 'validate') {
    const set = loaded(folder());
    if (values.json)
      print(JSON.stringify({ valid: true, hash: set.hash, standards: set.standards.length, prune: set.prune }));
    else print(`${set.standards.length} standard(s) in ${origin(set)} are valid (hash ${set.hash.slice(0, 12)})`);
    return 0;
  }
  const selector = selectorOf(values.environments);
  if (action === 'drift') return drift(values, selector === '*' ? undefined : selector, print);
  const set = loaded(folder());
  const ctx = await connect();
  try {
    return action === 'plan'
      ? await plan(ctx, set, selector, { all: values.all, json: values.json }, print)
      : await apply(ctx, set, selector, values, print);
  } finally {
    await ctx.close();
  }
}

async function plan(
  ctx: CliContext,
  set: StandardsSet,
  selector: string,
  options: { all: boolean; json: boolean },
  print: Print,
): Promise<number> {
  let result;
  try {
    result = await runStandardsPlan(ctx.client, { set, selector, taskQueue: ctx.config.temporal.taskQueue });
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`plan failed: ${err.cause?.message ?? err.message}`, 1);
    throw err;
  }
  const { summary } = result;
  if (!options.json) print(`Plan of standards ${set.hash.slice(0, 12)} (${origin(set)}) over ${selector}`);
  let current: string | undefined;
  let after: { environmentId: string; seq: number } | undefined;
  do {
    const page = await standardsRequest<Extract<StandardsRequestResult, { op: 'plan-items' }>>(
      ctx.client,
      ctx.config.temporal.taskQueue,
      { op: 'plan-items', planId: summary.planId, limit: PAGE, changesOnly: !options.all, ...(after ? { after } : {}) },
    );
    for (const { seq: _seq, ...item } of page.items) {
      if (options.json) {
        print(JSON.stringify(item));
        continue;
      }
      if (item.environmentId !== current) {
        current = item.environmentId;
        print(`  ${current}`);
      }
      const mode = item.mode === 'report' ? ' [report]' : '';
      print(`    ${ICON[item.action]} ${item.object} (${item.standard})${mode}${item.error ? `: ${item.error}` : ''}`);
      if (item.action === 'update') {
        for (const d of item.differences) print(`        ${d.field}: ${shown(d.old)} → ${shown(d.new)}`);
      }
    }
    after = page.next;
  } while (after !== undefined);
  const failed = summary.counts.refused + summary.counts.unreadable > 0;
  const code = failed ? 1 : hasChanges(summary.counts) ? CHANGES_PLANNED_EXIT_CODE : 0;
  if (options.json)
    print(JSON.stringify({ done: true, ...summary, changedEnvironments: summary.changedEnvironments.length }));
  else {
    print(`Summary: ${countsLine(summary)}`);
    print(
      code === 0
        ? 'Nothing to do: every environment holds to the standards.'
        : code === CHANGES_PLANNED_EXIT_CODE
          ? `Run \`autopilot standards apply\` to make these changes in ${summary.changedEnvironments.length} environment(s).`
          : 'Some objects cannot be planned or written: their rows say why.',
    );
  }
  return code;
}

function bar(p: StandardsApplyProgress, width = 30): string {
  if (p.planned.environments === 0 && p.environments === 0) return 'planning …';
  const done = p.applied + p.unchanged + p.skipped;
  const filled = Math.round((done / Math.max(1, p.environments)) * width);
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${p.environments}  ` +
    `${p.writes.created} created, ${p.writes.updated} updated, ${p.writes.deleted} deleted, ${p.attention.length} need attention`
  );
}

async function apply(
  ctx: CliContext,
  set: StandardsSet,
  selector: string,
  values: { concurrency?: string | undefined; wait: boolean; json: boolean },
  print: Print,
): Promise<number> {
  const concurrency = values.concurrency === undefined ? ctx.config.standards.concurrency : Number(values.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency > 0))
    throw new CliError('--concurrency must be a positive number', 2);
  const handle = await startStandardsApply(ctx.client, {
    set,
    selector,
    concurrency,
    taskQueue: ctx.config.temporal.taskQueue,
  });
  if (!values.json) {
    print(`Applying standards ${set.hash.slice(0, 12)} (${origin(set)}) to ${selector}: workflow ${handle.workflowId}`);
    const link = ctx.uiLink(handle.workflowId);
    if (link) print(`  ${link}`);
  }
  if (!values.wait) {
    if (values.json) {
      print(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, hash: set.hash }));
    }
    return 0;
  }
  const tty = !values.json && process.stdout.isTTY;
  let progress: StandardsApplyProgress | undefined;
  let last = '';
  for (;;) {
    const description = await handle.describe();
    progress = await handle.query(standardsProgressQuery).catch(() => progress);
    if (progress && !values.json) {
      const line = bar(progress);
      if (tty) process.stdout.write(`\r${line}`);
      else if (line !== last) print(line);
      last = line;
    }
    if (description.status.name !== 'RUNNING' || progress?.phase === 'NeedsAttention') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (tty) process.stdout.write('\n');
  let result: StandardsApplyProgress = progress!;
  try {
    const description = await handle.describe();
    if (description.status.name === 'COMPLETED') result = await handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`apply failed: ${err.cause?.message ?? err.message}`, 1);
    throw err;
  }
  if (values.json) print(JSON.stringify(result));
  else {
    print(
      `${result.phase}: ${result.applied} environment(s) written, ${result.unchanged} already right, ${result.skipped} skipped; ` +
        `${result.writes.created} object(s) created, ${result.writes.updated} updated, ${result.writes.deleted} deleted`,
    );
    for (const a of result.attention) print(`  ✗ ${a.environmentId}: ${a.reason}`);
    if (result.attention.length > 0) {
      print(`Fix the cause, then: autopilot retry ${handle.workflowId} --environment <id|*>  (or skip)`);
    }
  }
  return result.phase === 'NeedsAttention' ? 3 : 0;
}

/** `24h`, `7d`, `30m` or an ISO time. */
function since(text: string): string {
  const relative = /^(\d+)([mhd])$/.exec(text);
  if (relative) {
    const ms = Number(relative[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() - ms).toISOString();
  }
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new CliError(`--since must be like 24h, 7d or an ISO time, not ${JSON.stringify(text)}`, 2);
  return new Date(at).toISOString();
}

async function drift(
  values: { since?: string | undefined; resolved: boolean; json: boolean },
  selector: string | undefined,
  print: Print,
): Promise<number> {
  const ctx = await connect();
  try {
    const { records } = await standardsRequest<Extract<StandardsRequestResult, { op: 'drift' }>>(
      ctx.client,
      ctx.config.temporal.taskQueue,
      {
        op: 'drift',
        openOnly: !values.resolved,
        limit: 5000,
        ...(selector ? { selector } : {}),
        ...(values.since ? { since: since(values.since) } : {}),
      },
    );
    if (values.json) {
      for (const r of records) print(JSON.stringify(r));
      return 0;
    }
    if (records.length === 0) {
      print(
        values.resolved ? 'No drift found.' : 'No open drift: every environment holds to the standards applied last.',
      );
      return 0;
    }
    for (const r of records) {
      const state = r.resolvedAt
        ? `resolved ${r.resolvedAt}`
        : r.action === 'reapplied'
          ? 're-applied'
          : 'open (report)';
      print(
        `${r.foundAt}  ${r.environmentId}  ${r.object} (${r.standard})  ${r.field}: ${shown(r.new)} expected, ${shown(r.old)} found  [${state}]`,
      );
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
