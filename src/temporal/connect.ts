import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Temporal is not reachable at the configured address: an operator problem, reported in one line. */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
  constructor(address: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(`cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${reason}`, { cause });
  }
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address });
  } catch (err) {
    throw new TemporalUnreachableError(address, err);
  }
}

export async function connectClient(address: string): Promise<Connection> {
  try {
    return await Connection.connect({ address, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new TemporalUnreachableError(address, err);
  }
}
