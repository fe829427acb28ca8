import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_ONEAGENT_INSTALL_PATH, installedOneAgentVersionCommand } from '../../hosts/installed-oneagent.js';
import { onboardWorkflowId, planOnboarding, type OnboardCustomerResult } from '../../shared/onboarding.js';
import { compareOneAgentVersions, parseOneAgentVersion } from '../../shared/oneagent-version.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const agentCurrentUsage = `autopilot agent-current --customer <id> --stage <stage> [--oneagent-dir <dir>] [--json]
                        (exit 0: this machine's OneAgent is at least its environment's version; 1: missing, older, or no version yet)`;

const run = promisify(execFile);

interface Verdict {
  environmentId: string;
  oneAgentDir: string;
  current: boolean;
  installedVersion?: string;
  environmentVersion?: string;
  reason: string;
}

/**
 * Whether the OneAgent on this machine is missing or older than its environment's: a provisioning
 * run's guard (Puppet's `unless`), so a converged machine costs one local command and two Temporal
 * calls instead of an enrollment; Dynatrace is not asked.
 */
export async function agentCurrentCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      customer: { type: 'string' },
      stage: { type: 'string' },
      'oneagent-dir': { type: 'string', default: DEFAULT_ONEAGENT_INSTALL_PATH },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.customer || !values.stage)
    throw new CliError('--customer and --stage are required (see `autopilot help`)');
  const planned = planOnboarding({ customer: values.customer, stage: values.stage });
  if (!planned.ok) throw new CliError(planned.message);
  const oneAgentDir = values['oneagent-dir'];
  if (!path.isAbsolute(oneAgentDir))
    throw new CliError(`--oneagent-dir must be an absolute path, got ${JSON.stringify(oneAgentDir)}`);

  const verdict = await judge(planned.plan, oneAgentDir);
  print(values.json ? JSON.stringify(verdict) : verdict.reason);
  return verdict.current ? 0 : 1;
}

type Environment = { environmentId: string; customer: string; stage: string };

async function judge(plan: Environment, oneAgentDir: string): Promise<Verdict> {
  const { environmentId } = plan;
  const base = { environmentId, oneAgentDir };
  const installed = await installedVersion(oneAgentDir);
  // Nothing installed needs no look-up: enrolling is due whatever the environment's version is.
  if (!installed) return { ...base, current: false, reason: `no OneAgent in ${oneAgentDir}` };

  const found = await environmentVersion(plan);
  if ('missing' in found) return { ...base, current: false, installedVersion: installed, reason: found.missing };
  const { version } = found;
  const order = compareOneAgentVersions(installed, version);
  return {
    ...base,
    current: order >= 0,
    installedVersion: installed,
    environmentVersion: version,
    reason:
      order < 0
        ? `OneAgent ${installed} in ${oneAgentDir} is older than ${environmentId}'s ${version}`
        : `OneAgent ${installed} in ${oneAgentDir} is current for ${environmentId} (${version})`,
  };
}

/** Read as the enrollment's inspection reads it; undefined without an agent. */
async function installedVersion(oneAgentDir: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', installedOneAgentVersionCommand(oneAgentDir)], { timeout: 30_000 });
    return parseOneAgentVersion(stdout);
  } catch {
    return undefined;
  }
}

/** The installer version of the environment's latest completed onboarding, or why there is none. */
async function environmentVersion(plan: Environment): Promise<{ version: string } | { missing: string }> {
  const { environmentId, customer, stage } = plan;
  const workflowId = onboardWorkflowId(environmentId);
  const onboard = `autopilot onboard --customer ${customer} --stage ${stage}`;
  const ctx = await connect();
  try {
    const handle = ctx.client.workflow.getHandle<() => Promise<OnboardCustomerResult>>(workflowId);
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        return { missing: `${environmentId} is not onboarded yet (no ${workflowId}); run \`${onboard}\`` };
      throw err;
    }
    if (status === 'RUNNING')
      return { missing: `${environmentId} is still being onboarded (${workflowId} is running)` };
    if (status !== 'COMPLETED')
      return { missing: `${environmentId} is not onboarded: ${workflowId} is ${status}; run \`${onboard}\`` };
    const result = await handle.result();
    if (!result.installer)
      return { missing: `${environmentId} has no OneAgent version: its onboarding skipped the installer step` };
    return { version: result.installer.version };
  } finally {
    await ctx.close();
  }
}
