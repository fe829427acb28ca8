import { Client } from '@temporalio/client';
import { loadConfig, type AutopilotConfig } from '../config/config.js';
import { connectClient } from '../temporal/connect.js';

export interface CliContext {
  config: AutopilotConfig;
  client: Client;
  /** Link to a workflow in the Temporal UI, when the UI's address is known. */
  uiLink(workflowId: string): string | undefined;
  close(): Promise<void>;
}

export async function connect(): Promise<CliContext> {
  const config = loadConfig();
  const address = config.temporal.address ?? `127.0.0.1:${config.devServer.port}`;
  const connection = await connectClient(address);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const ui =
    process.env.AUTOPILOT_TEMPORAL_UI_URL ??
    (config.temporal.address ? undefined : `http://localhost:${config.devServer.uiPort}`);
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
