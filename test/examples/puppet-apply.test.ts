import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/config.js';
import { DynatraceClient } from '../../src/dynatrace/index.js';
import { cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import type { StatsSnapshot } from '../helpers/simulator.js';
import { sandboxPorts } from '../helpers/worker-process.js';

const run = promisify(execFile);
const PUPPET = '/usr/bin/puppet';
const ENVIRONMENT = 'abc-p1';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function ran(file: string, args: string[], options: { env: Record<string, string | undefined> }): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, { ...options, cwd: projectRoot, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * examples/puppet as a VM runs it on every Puppet run: the real `puppet apply` (Debian's Puppet 7) of
 * the `autopilot` module on this machine, its execs calling bin/autopilot against `npm start`'s stack.
 * This machine is the VM; the sandbox's local executor installs OneAgent into its host folder.
 */
describe('examples/puppet: puppet apply against npm start', () => {
  let sandbox: SpawnedProcess | undefined;
  let workDir: string;
  let dataDir: string;
  let puppetDir: string;
  let simulatorUrl: string;
  let temporalAddress: string;
  let host: string;
  let oneAgentDir: string;
  const puppetEnv = cleanEnv({ FACTER_autopilot_customer: 'abc', FACTER_autopilot_stage: 'p1' });
  // What the VM's CLI gets from its own configuration; the Puppet run itself has none of it.
  const cliEnv = () => cleanEnv({ TEMPORAL_ADDRESS: temporalAddress, AUTOPILOT_CODEC_KEYS_FILE: codecKeysFile() });
  const codecKeysFile = () => path.join(dataDir, 'codec-keys');

  const autopilot = (...args: string[]) =>
    ran(process.execPath, [path.join(projectRoot, 'bin/autopilot'), ...args], { env: cliEnv() });

  const agentCurrent = (customer: string, oneAgentDirectory: string, ...more: string[]) =>
    autopilot('agent-current', '--customer', customer, '--stage', 'p1', '--oneagent-dir', oneAgentDirectory, ...more);

  /** One Puppet run; every Puppet directory is under the test's folder and kept between runs, as on a VM. */
  const puppetApply = () => {
    const site = `class { 'autopilot':
      autopilot        => '${path.join(projectRoot, 'bin/autopilot')}',
      temporal_address => '${temporalAddress}',
      codec_keys_file  => '${codecKeysFile()}',
      oneagent_dir     => '${oneAgentDir}',
      executor         => 'local',
      path             => ['${path.dirname(process.execPath)}', '/usr/bin', '/bin'],
      wait_minutes     => 2,
    }`;
    const dirs = ['confdir', 'vardir', 'codedir', 'logdir', 'rundir', 'publicdir', 'ssldir'].map(
      (name) => `--${name}=${path.join(puppetDir, name)}`,
    );
    return ran(
      PUPPET,
      [
        'apply',
        '--detailed-exitcodes',
        '--color=false',
        `--modulepath=${path.join(projectRoot, 'examples/puppet')}`,
        ...dirs,
        '-e',
        site,
      ],
      { env: puppetEnv },
    );
  };

  const stats = async (): Promise<StatsSnapshot> => {
    const response = await fetch(`${simulatorUrl}/_sim/stats`);
    return (await response.json()) as StatsSnapshot;
  };
  const counts = (s: StatsSnapshot) => ({ ...s.byEnvironment[ENVIRONMENT], agentConnects: s.agentConnects });
  const installedVersion = () => readFileSync(path.join(oneAgentDir, 'agent/installer.version'), 'utf8').trim();
  const environmentVersion = async () => {
    const status = await autopilot('status', `onboard:${ENVIRONMENT}`, '--json');
    return (JSON.parse(status.stdout) as { result: { installer: { version: string } } }).result.installer.version;
  };

  beforeAll(async () => {
    if (!existsSync(PUPPET))
      throw new Error(`${PUPPET} is missing: scripts/setup-tools.sh installs Debian's puppet (needs root or sudo)`);
    workDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-puppet-'));
    dataDir = path.join(workDir, 'data');
    puppetDir = path.join(workDir, 'puppet');
    mkdirSync(puppetDir);
    // The module enrolls the VM under the name facter gives it; the local executor's folder follows it.
    host = (await run('facter', ['networking.hostname'], { env: puppetEnv })).stdout.trim();
    expect(host).toMatch(/^[A-Za-z0-9][A-Za-z0-9.-]*$/);
    oneAgentDir = path.join(dataDir, 'hosts', host, 'oneagent');

    const ports = await sandboxPorts();
    temporalAddress = `127.0.0.1:${ports.AUTOPILOT_DEV_SERVER_PORT}`;
    simulatorUrl = `http://127.0.0.1:${ports.AUTOPILOT_SIMULATOR_PORT}`;
    sandbox = spawnEntryPoint(
      'sandbox/start.ts',
      cleanEnv({
        ...ports,
        // What the runs cost Dynatrace is counted: the fleet scan's own reads (every 30 s) are not Puppet's.
        AUTOPILOT_FLEET_SCAN_INTERVAL_SECONDS: '86400',
        AUTOPILOT_DATA_DIR: dataDir,
        AUTOPILOT_METRICS_ADDRESS: 'off',
      }),
    );
    await sandbox.waitForOutput(/Press Ctrl-C to stop\./, 90_000);
  });
  afterAll(async () => {
    if (sandbox) {
      sandbox.child.kill('SIGINT');
      await sandbox.exit;
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  let afterFirst: ReturnType<typeof counts>;

  it('the first run onboards the environment and enrolls this VM (exit 2: changes)', async () => {
    const before = await stats();
    expect(before.byEnvironment[ENVIRONMENT]).toBeUndefined();
    const first = await puppetApply();
    expect(first.code, first.stdout + first.stderr).toBe(2);
    expect(first.stdout).toContain(`Exec[autopilot onboard ${ENVIRONMENT}]/returns: executed successfully`);
    expect(first.stdout).toContain(`Exec[autopilot enroll ${host} into ${ENVIRONMENT}]/returns: executed successfully`);

    const after = await stats();
    afterFirst = counts(after);
    // Environment once, installer once, this VM once.
    expect(after.byEnvironment[ENVIRONMENT]).toMatchObject({
      environmentsCreated: 1,
      installerDownloads: 1,
      hostsConnected: 1,
    });
    expect(after.agentConnects - before.agentConnects).toBe(1);
    expect(after.created.environments! - (before.created.environments ?? 0)).toBe(1);
    expect(installedVersion()).toBe(await environmentVersion());
  });

  it('the second run changes nothing (exit 0) and costs Dynatrace nothing', async () => {
    const second = await puppetApply();
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).not.toContain('executed successfully');
    expect(counts(await stats())).toEqual(afterFirst);
  });

  it('the VM reports into its environment (entities API)', async () => {
    const client = new DynatraceClient({
      baseUrl: simulatorUrl,
      maxConcurrentPerEnvironment: 2,
      requestTimeoutMs: 5_000,
    });
    const cluster = client.cluster(readFileSync(path.join(dataDir, 'simulator-cluster-token'), 'utf8').trim());
    expect(await cluster.getEnvironment(ENVIRONMENT)).toMatchObject({ id: ENVIRONMENT });
    const tokenManagement = await cluster.createTokenManagementToken(ENVIRONMENT, {
      name: 'puppet-test',
      expiresInSeconds: 600,
    });
    const reader = await client
      .environment(ENVIRONMENT, tokenManagement)
      .tokens.create({ name: 'puppet-test', scopes: ['entities.read'] });
    const hosts = [];
    for await (const h of client
      .environment(ENVIRONMENT, reader.token)
      .entities.list({ entitySelector: 'type("HOST")' }))
      hosts.push(h);
    expect(hosts.map((h) => h.displayName)).toEqual([host]);
  });

  it('a newer environment version makes the next run upgrade OneAgent, and only that', async () => {
    const old = installedVersion();
    const newer = '1.399.0.20270101-000000';
    const published = await fetch(`${simulatorUrl}/_sim/installer-versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ version: newer }),
    });
    expect(published.status).toBe(200);
    const onboard = await autopilot('onboard', '--customer', 'abc', '--stage', 'p1', '--wait');
    expect(onboard.code, onboard.stderr).toBe(0);
    expect(await environmentVersion()).toBe(newer);

    const check = await autopilot('agent-current', '--customer', 'abc', '--stage', 'p1', '--oneagent-dir', oneAgentDir);
    expect(check).toMatchObject({ code: 1, stderr: '' });
    expect(check.stdout).toBe(`OneAgent ${old} in ${oneAgentDir} is older than ${ENVIRONMENT}'s ${newer}\n`);

    const third = await puppetApply();
    expect(third.code, third.stdout + third.stderr).toBe(2);
    expect(third.stdout).not.toContain(`Exec[autopilot onboard ${ENVIRONMENT}]/returns`);
    expect(third.stdout).toMatch(/"outcome":"upgraded","version":"1\.399\.0\.20270101-000000"/);
    expect(installedVersion()).toBe(newer);
    const after = await stats();
    expect(after.byEnvironment[ENVIRONMENT]).toMatchObject({ environmentsCreated: 1, hostsConnected: 1 });

    const current = await agentCurrent('abc', oneAgentDir);
    expect(current).toMatchObject({ code: 0, stderr: '' });
    expect(current.stdout).toBe(`OneAgent ${newer} in ${oneAgentDir} is current for ${ENVIRONMENT} (${newer})\n`);
  });

  it('agent-current says why when there is nothing to compare with', async () => {
    const missing = await agentCurrent('abc', '/nonexistent');
    expect(missing).toMatchObject({ code: 1, stdout: 'no OneAgent in /nonexistent\n' });
    const notOnboarded = await agentCurrent('zzz', oneAgentDir, '--json');
    expect(notOnboarded.code).toBe(1);
    expect(JSON.parse(notOnboarded.stdout)).toMatchObject({
      environmentId: 'zzz-p1',
      current: false,
      reason: 'zzz-p1 is not onboarded yet (no onboard:zzz-p1); run `autopilot onboard --customer zzz --stage p1`',
    });
    const usage = await autopilot('agent-current', '--customer', 'abc', '--stage', 'p1', '--oneagent-dir', 'relative');
    expect(usage).toMatchObject({
      code: 2,
      stderr: 'autopilot: --oneagent-dir must be an absolute path, got "relative"\n',
    });
  });
});
