import { parseArgs } from 'node:util';
import { ScheduleNotFoundError } from '@temporalio/client';
import { FLEET_MAINTENANCE_SCHEDULE_ID } from '../../shared/maintenance.js';
import { autopilotSchedules } from '../../workers/apply-schedules.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const schedulesUsage =
  'autopilot schedules [list|apply|pause|unpause|trigger] [fleet-maintenance|fleet-scan|standards-drift] [--json]';

/** Autopilot's schedules (fleet-maintenance by default, fleet-scan, standards-drift): what they do and when, and an operator's levers. */
export async function schedulesCommand(argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const action = positionals[0] ?? 'list';
  const scheduleId = positionals[1] ?? FLEET_MAINTENANCE_SCHEDULE_ID;
  if (!['list', 'apply', 'pause', 'unpause', 'trigger'].includes(action) || positionals.length > 2)
    throw new CliError(`usage: ${schedulesUsage}`);
  const ctx = await connect();
  try {
    const schedules = autopilotSchedules(ctx.config);
    if (!schedules.some((s) => s.id === scheduleId))
      throw new CliError(`no schedule ${scheduleId}: Autopilot's are ${schedules.map((s) => s.id).join(', ')}`);
    const handle = ctx.client.schedule.getHandle(scheduleId);
    if (action === 'apply') {
      for (const schedule of schedules) print(`${schedule.id}: ${await schedule.apply(ctx.client)}`);
      return 0;
    }
    try {
      if (action === 'pause') await handle.pause('paused with autopilot schedules pause');
      if (action === 'unpause') await handle.unpause('unpaused with autopilot schedules unpause');
      if (action === 'trigger') await handle.trigger();
      const d = await handle.describe();
      const summary = {
        id: d.scheduleId,
        paused: d.state.paused,
        every:
          d.spec.intervals?.map((i) =>
            typeof i.every === 'number'
              ? i.every % 60_000 === 0
                ? `${i.every / 60_000} minutes`
                : `${i.every / 1000} seconds`
              : String(i.every),
          ) ?? [],
        nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        recentRuns: d.info.recentActions.slice(-5).map((a) => ({
          scheduledAt: a.scheduledAt.toISOString(),
          workflowId: a.action.workflow.workflowId,
        })),
      };
      if (values.json) print(JSON.stringify(summary));
      else {
        print(`${summary.id}: ${summary.paused ? 'PAUSED' : 'active'}, every ${summary.every.join(', ')}`);
        print(`  next runs    ${summary.nextRuns.join(', ') || '—'}`);
        for (const r of summary.recentRuns) print(`  ran          ${r.scheduledAt} ${r.workflowId}`);
        if (action === 'trigger') print('  triggered    a run starts now (skipped if one is running)');
      }
      return 0;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) {
        throw new CliError(`no ${scheduleId} schedule yet: start a worker or run \`autopilot schedules apply\``, 1);
      }
      throw err;
    }
  } finally {
    await ctx.close();
  }
}
