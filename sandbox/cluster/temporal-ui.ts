import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

export interface TemporalUi {
  url: string;
  process: ServiceProcess;
}

/** The UI server binary scripts/setup-tools.sh --with-cluster builds; undefined before it did. */
export function temporalUiServerPath(projectRoot: string): string | undefined {
  const file = path.join(projectRoot, '.tools', 'bin', 'temporal-ui-server');
  return existsSync(file) ? file : undefined;
}

/**
 * The Temporal UI server (the official UI, built from its Go module with its assets), configured like
 * the temporalio/ui container of docker-compose.yml: the browser asks our codec server to decrypt.
 */
export async function startTemporalUi(options: {
  binary: string;
  dir: string;
  port: number;
  temporalAddress: string;
  namespace: string;
  codecEndpoint: string;
}): Promise<TemporalUi> {
  const port = options.port;
  const configDir = path.join(options.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const config = {
    temporalGrpcAddress: options.temporalAddress,
    host: '127.0.0.1',
    port,
    enableUi: true,
    defaultNamespace: options.namespace,
    notifyOnNewVersion: false,
    cors: { allowOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`] },
    codec: { endpoint: options.codecEndpoint, passAccessToken: false, includeCredentials: false },
  };
  writeFileSync(path.join(configDir, 'base.yaml'), stringify(config));
  writeFileSync(path.join(configDir, 'autopilot.yaml'), stringify(config));
  const process = await startServiceProcess({
    name: 'temporal-ui',
    command: options.binary,
    args: ['--root', options.dir, '--config', 'config', '--env', 'autopilot', 'start'],
    env: { PATH: globalThis.process.env.PATH, HOME: globalThis.process.env.HOME },
    cwd: options.dir,
    logFile: path.join(options.dir, 'temporal-ui.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/api/v1/settings`)).ok) break;
    } catch {
      // not listening yet
    }
    if (!process.running()) throw new Error(`the Temporal UI server exited:\n${process.tail()}`);
    if (Date.now() > deadline) throw new Error(`the Temporal UI server did not answer within 30 s:\n${process.tail()}`);
    await sleep(200);
  }
  return { url, process };
}
