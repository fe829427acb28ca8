import { sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { HostLookupBatcher, ReportingHost } from '../../dynatrace/host-lookup-batcher.js';
import { heartbeatWhile } from '../heartbeat-while.js';
import { FailureType } from '../../shared/failure-types.js';

export interface AwaitHostReportingInput {
  environmentId: string;
  hostname: string;
  version: string;
  timeoutMs: number;
}

export function createHostReportingActivities(deps: { hostLookup: HostLookupBatcher; reportingPollMs: number }) {
  /** Polls (batched per environment) until the host reports with the installed version, or gives up. */
  async function pollUntilReporting(input: AwaitHostReportingInput): Promise<ReportingHost> {
    const deadline = Date.now() + input.timeoutMs;
    let last: ReportingHost | undefined;
    for (;;) {
      last = await deps.hostLookup.find(input.environmentId, input.hostname);
      if (last && (last.installerVersion === undefined || last.installerVersion === input.version)) return last;
      if (Date.now() >= deadline) break;
      await sleep(Math.min(deps.reportingPollMs, Math.max(0, deadline - Date.now())));
    }
    throw ApplicationFailure.nonRetryable(
      last
        ? `${input.hostname} reports into ${input.environmentId} with OneAgent ${last.installerVersion}, not ${input.version}, after ${Math.round(input.timeoutMs / 1000)} s`
        : `${input.hostname} did not report into ${input.environmentId} within ${Math.round(input.timeoutMs / 1000)} s after the install`,
      FailureType.HostNotReporting,
    );
  }

  return {
    /** The host as the environment sees it right now, or null. */
    async findReportingHost(input: { environmentId: string; hostname: string }): Promise<ReportingHost | null> {
      return (await deps.hostLookup.find(input.environmentId, input.hostname)) ?? null;
    },

    /** Heartbeats on a timer, not per poll: the poll interval is the operator's to set, longer than the heartbeat timeout if they like. */
    async awaitHostReporting(input: AwaitHostReportingInput): Promise<ReportingHost> {
      return heartbeatWhile({ waitingFor: input.hostname }, () => pollUntilReporting(input));
    },
  };
}
