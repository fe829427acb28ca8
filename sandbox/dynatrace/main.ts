import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/config/config.js';
import { startDynatraceSimulator } from './server.js';

/**
 * `npm run simulator`: the Dynatrace Managed simulator on its own, for curl, benchmarks and
 * exploring the API. The admin cluster token goes to a file, never to the terminal.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.DT_SIMULATOR_PORT ?? '8021' },
    host: { type: 'string', default: '127.0.0.1' },
    'state-file': { type: 'string' },
    'data-dir': { type: 'string', default: path.join(projectRoot, '.data') },
    'latency-ms': { type: 'string', default: '0' },
    'max-concurrent': { type: 'string', default: '20' },
    // https with a certificate made at start, for a worker run as production (DT_CA_CERT_FILE).
    tls: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`simulator: --port (or DT_SIMULATOR_PORT) must be a port number, got ${JSON.stringify(values.port)}`);
  process.exit(2);
}
const dataDir = path.resolve(values['data-dir']);
mkdirSync(dataDir, { recursive: true });
const simulator = await startDynatraceSimulator({
  port,
  host: values.host,
  ...(values['state-file'] ? { stateFile: path.resolve(values['state-file']) } : {}),
  knobs: { latencyMs: Number(values['latency-ms']), throttle: { maxConcurrent: Number(values['max-concurrent']) } },
  clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
  tls: values.tls,
});
const tokenFile = path.join(dataDir, 'simulator-cluster-token');
writeFileSync(tokenFile, simulator.clusterTokens.admin! + '\n', { mode: 0o600 });

console.log(`Dynatrace Managed simulator (not a real cluster) listening on ${simulator.url}`);
console.log(`  cluster API    ${simulator.url}/api/cluster/v2/environments`);
console.log(`  environments   ${simulator.url}/e/<environmentId>/api/...`);
console.log(`  inspection     ${simulator.url}/_sim/stats`);
console.log(
  `  cluster token  in ${path.relative(process.cwd(), tokenFile)} (scopes ServiceProviderAPI, EnvironmentTokenManagement)`,
);
if (simulator.caFile) console.log(`  certificate    ${simulator.caFile} (trust it: DT_CA_CERT_FILE, curl --cacert)`);

const stop = () => {
  void simulator.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
