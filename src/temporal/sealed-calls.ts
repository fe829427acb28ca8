import type { WorkflowClientInterceptor } from '@temporalio/client';

/** A call that takes no argument carries `undefined`, which the codec seals like any other value. */
const atLeastOne = (args: unknown[]): unknown[] => (args.length > 0 ? args : [undefined]);

/**
 * Workers act only on calls that carry at least one payload sealed with a codec key: a call with
 * no payload at all could come from anyone who reaches the frontend (workflows/sealed-calls-guard.ts).
 * So every start, signal and update of our clients carries one, even where it takes no argument.
 */
export const sealedCallsInterceptor: WorkflowClientInterceptor = {
  startWithDetails: (input, next) =>
    next({ ...input, options: { ...input.options, args: atLeastOne(input.options.args) } }),
  signal: (input, next) => next({ ...input, args: atLeastOne(input.args) }),
  signalWithStart: (input, next) =>
    next({
      ...input,
      signalArgs: atLeastOne(input.signalArgs),
      options: { ...input.options, args: atLeastOne(input.options.args) },
    }),
  startUpdate: (input, next) => next({ ...input, args: atLeastOne(input.args) }),
  startUpdateWithStart: (input, next) =>
    next({
      ...input,
      updateArgs: atLeastOne(input.updateArgs),
      workflowStartOptions: { ...input.workflowStartOptions, args: atLeastOne(input.workflowStartOptions.args) },
    }),
};
