import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { startFleet } from '../../client/start-fleet.js';
import { parseInventoryCsv, type InventoryProblem } from '../../inventory/parse-inventory-csv.js';
import { openInventoryStore } from '../../inventory/open-inventory-store.js';
import type { FleetProgress, FleetReport } from '../../shared/fleet.js';
import { fleetProgressQuery } from '../../workflows/shared/fleet-signals.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const enrollFleetUsage = `autopilot enroll-fleet --inventory <hosts.csv> [--skip-invalid] [--concurrency <n>] [--per-environment <n>]
                      [--executor ssh|local] [--ssh-user <user>] [--ssh-key <key name>] [--no-wait] [--json]
                      (CSV columns hostname,address,customer,stage,os[,port]; a row repeated exactly is enrolled once;
                       a bad row starts nothing, unless --skip-invalid: then the valid rows start and each bad one is listed)`;

/** Lines of an error message that lists bad rows; a 12,000-row inventory can have thousands. */
const SHOWN_PROBLEMS = 20;

const lineOf = (p: InventoryProblem) => `  line ${p.line}: ${p.message}`;

function problemList(problems: InventoryProblem[]): string[] {
  const more = problems.length > SHOWN_PROBLEMS ? [`  … and ${problems.length - SHOWN_PROBLEMS} more`] : [];
  return [...problems.slice(0, SHOWN_PROBLEMS).map(lineOf), ...more];
}

function bar(p: FleetProgress, width = 30): string {
  const finished = p.done + p.failed;
  const filled = Math.round((finished / Math.max(1, p.total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${p.total}  ${p.running} running, ${p.needsAttention} need attention, ${p.failed} failed`;
}

export async function enrollFleetCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      inventory: { type: 'string' },
      concurrency: { type: 'string', default: '100' },
      'per-environment': { type: 'string', default: '10' },
      executor: { type: 'string' },
      'ssh-user': { type: 'string' },
      'ssh-key': { type: 'string' },
      'skip-invalid': { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.inventory) throw new CliError('--inventory is required (a CSV with hostname,address,customer,stage,os)');
  const global = Number(values.concurrency);
  const perEnvironment = Number(values['per-environment']);
  if (!(Number.isInteger(global) && global > 0)) throw new CliError('--concurrency must be a positive number');
  if (!(Number.isInteger(perEnvironment) && perEnvironment > 0))
    throw new CliError('--per-environment must be a positive number');
  if (values.executor && values.executor !== 'ssh' && values.executor !== 'local')
    throw new CliError('--executor must be ssh or local');
  let text: string;
  try {
    text = readFileSync(values.inventory, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${values.inventory}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { hosts, problems, notes } = parseInventoryCsv(text);
  if (!values.json) for (const n of notes) print(`note: ${values.inventory} line ${n.line}: ${n.message}`);
  if (problems.length > 0 && !values['skip-invalid']) {
    const hint =
      hosts.length > 0
        ? [`Fix them, or run again with --skip-invalid to start the ${hosts.length} valid host(s).`]
        : [];
    throw new CliError(
      [
        `${values.inventory} has ${problems.length} bad row(s); nothing was started:`,
        ...problemList(problems),
        ...hint,
      ].join('\n'),
    );
  }
  if (hosts.length === 0) {
    throw new CliError(
      [`${values.inventory} has no valid host; nothing was started:`, ...problemList(problems)].join('\n'),
    );
  }
  // Every row that will not be enrolled, uncapped: the flag skips rows, it does not hide them.
  const skipped = problems;
  if (!values.json && skipped.length > 0) {
    print(`Skipping ${skipped.length} bad row(s) of ${values.inventory} (--skip-invalid):`);
    for (const p of skipped) print(lineOf(p));
  }

  const ctx = await connect();
  try {
    const inventories = await openInventoryStore(ctx.config);
    const inventory = await inventories.store.put(hosts).finally(() => inventories.close());
    const handle = await startFleet(ctx.client, inventory, {
      taskQueue: ctx.config.temporal.taskQueue,
      concurrency: { global, perEnvironment },
      ...(values.executor ? { executor: values.executor as 'ssh' | 'local' } : {}),
      ...(values['ssh-user'] || values['ssh-key']
        ? {
            ssh: {
              ...(values['ssh-user'] ? { user: values['ssh-user'] } : {}),
              ...(values['ssh-key'] ? { keyName: values['ssh-key'] } : {}),
            },
          }
        : {}),
    });
    if (!values.json) {
      print(
        `Enrolling ${inventory.total} hosts into ${Object.keys(inventory.environments).length} environments: workflow ${handle.workflowId}`,
      );
      const link = ctx.uiLink(handle.workflowId);
      if (link) print(`  ${link}`);
    }
    if (values['no-wait']) {
      if (values.json) print(JSON.stringify({ workflowId: handle.workflowId, inventory, notes, skipped }));
      return 0;
    }

    // Always the latest run: the fleet continues as new as it goes.
    const latest = ctx.client.workflow.getHandle(handle.workflowId);
    const tty = !values.json && process.stdout.isTTY;
    let last = '';
    let lastPrinted = 0;
    let report: FleetReport | undefined;
    let failure: string | undefined;
    void handle.result().then(
      (r) => (report = r),
      (err: unknown) =>
        (failure = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)),
    );
    let progress: FleetProgress | undefined;
    for (;;) {
      progress = await latest.query(fleetProgressQuery).catch(() => progress);
      if (progress && !values.json) {
        const line = bar(progress);
        if (tty) process.stdout.write(`\r${line}`);
        else if (line !== last && Date.now() - lastPrinted > 5_000) {
          print(line);
          lastPrinted = Date.now();
        }
        last = line;
      }
      if (report || failure) break;
      if (progress?.phase === 'NeedsAttention') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (tty) process.stdout.write('\n');
    if (failure) throw new CliError(`the fleet enrollment failed: ${failure}`, 1);
    const final = report ?? progress!;
    if (values.json) {
      print(
        JSON.stringify({
          workflowId: handle.workflowId,
          status: report ? 'COMPLETED' : 'NEEDS_ATTENTION',
          ...final,
          notes,
          skipped,
        }),
      );
    } else {
      if (!tty && last) print(last);
      print(
        `${final.done} enrolled, ${final.failed} failed, ${final.needsAttention} need attention, of ${final.total} hosts (${final.runs} run(s))`,
      );
      for (const a of final.attention.slice(0, 20))
        print(`  needs attention: ${a.workflowId}: ${a.reason.split('\n')[0]}`);
      for (const f of final.failures.slice(0, 20)) print(`  failed: ${f.workflowId}: ${f.reason.split('\n')[0]}`);
      if (!report)
        print(
          `The fleet keeps waiting for them; see \`autopilot runs --phase NeedsAttention\`, then retry, skip or abort each.`,
        );
    }
    if (!report) return 3;
    return final.failed > 0 ? 1 : 0;
  } finally {
    await ctx.close();
  }
}
