import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces name hosts, environments and installer output: with common
 * attributes encoded they travel inside a payload, so the codec encrypts them like any input.
 * Loaded by path (worker, client and the workflow bundle), hence its own workflow-safe module.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
