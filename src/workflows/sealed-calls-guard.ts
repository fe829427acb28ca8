/**
 * Only holders of a codec key steer Autopilot's workflows.
 *
 * Anyone who can reach the Temporal frontend can start a workflow, signal or update it with plain
 * JSON. The worker's codec replaces every payload that is not sealed with a key of this deployment by
 * a marker without its content (codec/unsealed-payload.ts); here a call carrying one, or carrying no
 * payload at all (which anyone could send), is refused before any workflow code sees it:
 *
 * - a start fails the run at once with an `UnsealedPayload` failure, before any activity;
 * - a signal is dropped, and the worker log says which and why (a signal cannot be answered);
 * - an update is refused, and the caller reads why;
 * - a query fails.
 *
 * Runs that began before this guard replay as they ran (`patched`): their calls came from our own
 * clients, which sealed their arguments but sent none where a signal took none.
 */
import {
  ApplicationFailure,
  log,
  patched,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { isUnsealedPayload, sealedCall, unsealedCallReason } from '../codec/unsealed-payload.js';
import { FailureType } from '../shared/failure-types.js';

export const SEALED_CALLS_PATCH = 'only-sealed-calls-steer-the-workflow';

const refusal = (reason: string) => ApplicationFailure.nonRetryable(reason, FailureType.UnsealedPayload);

const guard: WorkflowInboundCallsInterceptor = {
  async execute(input, next) {
    if (!sealedCall(input.args) && patched(SEALED_CALLS_PATCH)) {
      throw refusal(unsealedCallReason('The start of this workflow', input.args));
    }
    return next(input);
  },

  async handleSignal(input, next) {
    if (!sealedCall(input.args) && patched(SEALED_CALLS_PATCH)) {
      log.warn(`Signal ${input.signalName} ignored`, {
        reason: unsealedCallReason(`Signal ${input.signalName}`, input.args),
      });
      return;
    }
    return next(input);
  },

  // Validators run only when an update arrives, never on replay, so no patch is needed; they run
  // only for updates that have one, hence the handler's own check.
  validateUpdate(input, next) {
    if (!sealedCall(input.args)) throw refusal(unsealedCallReason(`Update ${input.name}`, input.args));
    next(input);
  },

  async handleUpdate(input, next) {
    if (!sealedCall(input.args)) throw refusal(unsealedCallReason(`Update ${input.name}`, input.args));
    return next(input);
  },

  async handleQuery(input, next) {
    if (input.args.some(isUnsealedPayload)) throw refusal(unsealedCallReason(`Query ${input.queryName}`, input.args));
    return next(input);
  },
};

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [guard] });
