import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/config/config.js';
import { CHAOS_FAULTS, runChaos } from './chaos-run.js';

/** `npm run chaos`: a fleet roll-out of 2,000 hosts through faults, worker kills and a server restart. */
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '2000' },
    environments: { type: 'string', default: '100' },
    'install-ms': { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '150' },
    kills: { type: 'string', default: '3' },
    restarts: { type: 'string', default: '1' },
  },
});
// The worker runs the production build, as the image does: a restarted worker starts in seconds.
execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, stdio: 'inherit' });
const result = await runChaos({
  dir: mkdtempSync(path.join(os.tmpdir(), 'autopilot-chaos-')),
  hosts: Number(values.hosts),
  environments: Number(values.environments),
  installMs: Number(values['install-ms']),
  concurrency: { global: Number(values.concurrency), perEnvironment: 10 },
  workerKills: Number(values.kills),
  serverRestarts: Number(values.restarts),
  faults: CHAOS_FAULTS,
  workerEntry: 'build',
  log: (line) => console.log(line),
});
const out = path.join(projectRoot, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, 'chaos.json'),
  JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2) + '\n',
);

const c = result.rollout.counts;
console.log('');
console.log(
  `Chaos run: ${result.settings.hosts} hosts, ${result.settings.environments} environments, ${result.rollout.wallSeconds.toFixed(0)} s`,
);
console.log(
  `  faults injected by the simulator: ${c.faultsInjected} (of ${c.apiRequests} API calls; 429s: ${c.throttled})`,
);
for (const d of result.disruptions) {
  console.log(
    `  ${d.what} at ${d.atSeconds.toFixed(0)} s (${d.hostsDoneBefore} hosts done): hosts completing again after ${d.recoverySeconds.toFixed(1)} s; ` +
      `${d.movingAgain.hosts} in flight, moving again after ${d.movingAgain.p50.toFixed(1)} s median, ${d.movingAgain.max.toFixed(1)} s last` +
      (d.movingAgain.stuck.length ? `, ${d.movingAgain.stuck.length} stuck` : ''),
  );
}
for (const check of result.checks) {
  console.log(
    `  ${check.ok ? '✓' : '✗'} ${check.check}: ${check.actual}${check.ok ? '' : ` (expected ${check.expected})`}`,
  );
}
console.log(result.ok ? 'Nothing lost, nothing duplicated.' : 'CHAOS RUN FAILED');
console.log(`Written to ${path.relative(process.cwd(), path.join(out, 'chaos.json'))}`);
process.exit(result.ok ? 0 : 1);
