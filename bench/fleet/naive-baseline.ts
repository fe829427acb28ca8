import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';
import { DynatraceApiError } from '../../src/dynatrace/errors.js';
import type { DynatraceClient } from '../../src/dynatrace/index.js';
import { LocalExecutor } from '../../src/hosts/local-executor.js';
import type { FleetHost } from '../../src/shared/fleet.js';

export interface NaiveOptions {
  dynatrace: DynatraceClient;
  clusterToken: string;
  hosts: FleetHost[];
  /** Hosts in flight at once, the same as the fleet's global concurrency. */
  concurrency: number;
  installMs: number;
  dir: string;
  onProgress?: (done: number) => void;
}

export interface NaiveResult {
  done: number;
  failed: number;
  errors: string[];
  wallSeconds: number;
}

/**
 * The per-host script platform teams run today (Puppet exec, a shell loop): for each host, look
 * up its environment, create it if missing, get a token-management token, mint an installer
 * token, download the installer and run it. It retries a throttled or failed call after the
 * server's Retry-After, like a careful script would; it just knows nothing beyond its one host.
 */
export async function runNaiveBaseline(options: NaiveOptions): Promise<NaiveResult> {
  const cluster = options.dynatrace.cluster(options.clusterToken);
  const executor = new LocalExecutor({
    rootDir: path.join(options.dir, 'hosts'),
    simulatedInstallMs: options.installMs,
  });
  const downloads = path.join(options.dir, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const errors: string[] = [];
  let done = 0;
  let failed = 0;
  const started = Date.now();

  const enroll = async (host: FleetHost) => {
    const environmentId = `${host.customer}-${host.stage}`;
    if (!(await retried(() => cluster.getEnvironment(environmentId)))) {
      await retried(() => cluster.putEnvironment(environmentId, { name: environmentId, state: 'ENABLED' }));
    }
    const tokenManagement = await retried(() =>
      cluster.createTokenManagementToken(environmentId, { name: `script ${host.hostname}`, expiresInSeconds: 3600 }),
    );
    const tokens = options.dynatrace.environment(environmentId, tokenManagement).tokens;
    const installerToken = await retried(() =>
      tokens.create({ name: `installer for ${host.hostname}`, scopes: ['InstallerDownload'] }),
    );
    const deployment = options.dynatrace.environment(environmentId, installerToken.token).deployment;
    const version = await retried(() => deployment.latestVersion());
    const file = path.join(downloads, `${host.hostname}.sh`);
    await retried(() => deployment.download({ version, destination: file }));
    const result = await executor.withSession({ hostname: host.hostname, address: host.address }, (session) =>
      session.run(
        `sh ${file} INSTALL_PATH=oneagent --set-host-name=${host.hostname} --set-host-group=${environmentId}`,
        {
          timeoutMs: options.installMs + 120_000,
          purpose: 'install',
        },
      ),
    );
    rmSync(file, { force: true });
    if (result.exitCode !== 0)
      throw new Error(`installer exited with ${result.exitCode}: ${result.stderr.slice(-200)}`);
  };

  await mapWithConcurrency(options.hosts, options.concurrency, async (host) => {
    try {
      await enroll(host);
      done++;
    } catch (err) {
      failed++;
      if (errors.length < 20) errors.push(`${host.hostname}: ${err instanceof Error ? err.message : String(err)}`);
    }
    options.onProgress?.(done + failed);
  });
  return { done, failed, errors, wallSeconds: (Date.now() - started) / 1000 };
}

/** Retries what Dynatrace says is worth retrying, after its Retry-After, up to ten attempts. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof DynatraceApiError) || err.nonRetryable || attempt >= 10) throw err;
      const delay =
        err.nextRetryDelay === undefined || err.nextRetryDelay === null
          ? 1000 * attempt
          : msToNumber(err.nextRetryDelay);
      await sleep(Math.min(delay, 30_000));
    }
  }
}
