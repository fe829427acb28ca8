import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
  type ScheduleSpec,
} from '@temporalio/client';

/**
 * Creates a schedule of Autopilot's, or brings the one that exists up to date (spec, action,
 * policies), keeping whether an operator paused it. Safe from every worker start and from
 * `autopilot schedules apply` at once.
 */
export async function ensureSchedule(
  client: Client,
  scheduleId: string,
  spec: ScheduleSpec,
  action: ScheduleOptionsAction,
  catchupWindow: string,
): Promise<'created' | 'updated'> {
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies,
      state: { note: 'Created by Dynatrace Autopilot; `autopilot schedules apply` updates it' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({
    ...previous,
    spec,
    action,
    policies: { ...previous.policies, ...policies },
  }));
  return 'updated';
}
