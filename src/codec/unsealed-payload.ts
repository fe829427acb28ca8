/**
 * What a worker's codec puts in place of a payload that was not sealed with a codec key of this
 * deployment: the encoding it came in, never its content, so nothing an outsider wrote reaches a
 * workflow. Workflows recognise it (workflows/sealed-calls-guard.ts) and refuse the call. Loaded by
 * the workflow bundle: no Node.js APIs here.
 */
export const UNSEALED_PAYLOAD = '$autopilotUnsealedPayload';

export interface UnsealedPayload {
  [UNSEALED_PAYLOAD]: true;
  /** The payload's own encoding (`json/plain`, `binary/null`), to say what came instead. */
  encoding: string;
}

export const isUnsealedPayload = (value: unknown): value is UnsealedPayload =>
  typeof value === 'object' && value !== null && (value as Record<string, unknown>)[UNSEALED_PAYLOAD] === true;

/** Whether a start, signal or update came from a holder of a codec key: at least one payload, all sealed. */
export const sealedCall = (args: readonly unknown[]): boolean => args.length > 0 && !args.some(isUnsealedPayload);

/** Why a call was refused, in the words an operator reads in the run or at the client. */
export function unsealedCallReason(call: string, args: readonly unknown[]): string {
  const what =
    args.length === 0
      ? 'carries no payload'
      : `carries payloads that are not sealed with a codec key of this deployment (${[
          ...new Set(args.filter(isUnsealedPayload).map((a) => a.encoding)),
        ].join(', ')})`;
  return (
    `${call} ${what}: only Autopilot's clients, which hold a key of AUTOPILOT_CODEC_KEYS, may start, signal or update ` +
    'its workflows (a call that takes no argument sends null)'
  );
}
