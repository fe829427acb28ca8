import type { Client } from '@temporalio/client';
import { codecKeysFor } from '../codec/codec-keys.js';
import { loadConfig, type AutopilotConfig } from '../config/config.js';
import { autopilotClient, connectClient, temporalAccess } from '../temporal/connect.js';

export interface CliContext {
  config: AutopilotConfig;
  client: Client;
  /** Link to a workflow in the Temporal UI, when the UI's address is known. */
  uiLink(workflowId: string): string | undefined;
  close(): Promise<void>;
}

export async function connect(): Promise<CliContext> {
  const config = loadConfig();
  const codecKeys = codecKeysFor(config);
  const connection = await connectClient(temporalAccess(config));
  const client = autopilotClient(connection, config.temporal.namespace, codecKeys);
  const ui =
    config.temporal.uiUrl ?? (config.temporal.address ? undefined : `http://localhost:${config.devServer.uiPort}`);
  return {
    config,
    client,
    uiLink: (workflowId) =>
      ui
        ? `${ui.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`
        : undefined,
    close: () => connection.close(),
  };
}
