import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/config/config.js';
import { startProductionCluster } from './production-cluster.js';

const USAGE = 'usage: npm run cluster -- [--workers N] [--no-ui]';

/**
 * `npm run cluster`: the production topology of docker-compose.yml without containers, against the
 * Dynatrace simulator and the AWS emulators. Ctrl-C stops all of it; the data folder is thrown away
 * at the next start, its logs are kept until then.
 */
async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { workers: { type: 'string', default: '2' }, 'no-ui': { type: 'boolean', default: false } },
      strict: true,
    }));
  } catch (err) {
    console.error(`cluster: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 16) {
    console.error(`cluster: --workers must be a whole number from 1 to 16, not ${values.workers}\n${USAGE}`);
    process.exit(2);
  }
  const dir = path.join(projectRoot, '.data', 'cluster');
  rmSync(dir, { recursive: true, force: true });
  const say = (line: string) => process.stderr.write(`cluster: ${line}\n`);
  const cluster = await startProductionCluster({ projectRoot, dir, workers, ui: !values['no-ui'], log: say });
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';
  console.log(
    [
      `Dynatrace Autopilot's production topology is running (${workers} worker${workers === 1 ? '' : 's'}, no shared folder)`,
      `  Temporal     ${cluster.temporal.address} (server 1.29.1 on PostgreSQL, namespace ${cluster.namespace})`,
      ...(cluster.ui
        ? [`  Temporal UI  ${cluster.ui.url}`]
        : ['  Temporal UI  not built: bash scripts/setup-tools.sh --with-cluster']),
      `  Codec        ${cluster.codec.endpoint} (token in ${rel(path.join(dir, 'secrets', 'codec-auth-token'))})`,
      `  Webhook      ${cluster.webhook.url}/webhooks/dynatrace/<environment>`,
      `  Fleet page   ${cluster.fleet.url}/ (tokens in ${rel(path.join(dir, 'secrets', 'fleet-read-token'))} and ${rel(path.join(dir, 'secrets', 'fleet-write-token'))})`,
      `  Database     ${cluster.databaseUrl}`,
      `  Dynatrace    ${cluster.simulator.url} (SIMULATOR)`,
      `  AWS          ${cluster.aws.moto.url} (moto), installers in s3://${cluster.installerBucket}`,
      `  Logs         ${rel(path.join(dir, 'logs'))}/`,
      '',
      'The CLI against it:',
      `  TEMPORAL_ADDRESS=${cluster.temporal.address} AUTOPILOT_CODEC_KEYS_FILE=${rel(path.join(dir, 'secrets', 'codec-keys'))} \\`,
      `  AUTOPILOT_DATABASE_URL_FILE=${rel(path.join(dir, 'secrets', 'database-url'))} npm run autopilot -- environments`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('stopping');
  await cluster.stop();
  say('stopped');
  // The AWS SDK's and the simulator's keep-alive sockets would hold the process for a while more.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
