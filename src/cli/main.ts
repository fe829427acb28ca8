import { ConfigError } from '../config/config.js';
import { TemporalUnreachableError } from '../temporal/connect.js';
import { CliError } from './cli-error.js';
import { agentCurrentCommand, agentCurrentUsage } from './commands/agent-current.js';
import { approvalCommand, approvalUsage } from './commands/approval.js';
import { decideCommand, decideUsage } from './commands/decide.js';
import { doctorCommand, doctorUsage } from './commands/doctor.js';
import { simulateCpuCommand, simulateCpuUsage } from './commands/simulate-cpu.js';
import { enrollFleetCommand, enrollFleetUsage } from './commands/enroll-fleet.js';
import { enrollCommand, enrollUsage } from './commands/enroll.js';
import { environmentsCommand, environmentsUsage } from './commands/environments.js';
import { fleetCommand, fleetUsage } from './commands/fleet.js';
import { schedulesCommand, schedulesUsage } from './commands/schedules.js';
import { standardsCommand, standardsUsage } from './commands/standards.js';
import { tokensCommand, tokensUsage } from './commands/tokens.js';
import { secretsCommand, secretsUsage } from './commands/secrets.js';
import { onboardCommand, onboardUsage } from './commands/onboard.js';
import { runsCommand, runsUsage } from './commands/runs.js';
import { statusCommand, statusUsage } from './commands/status.js';

const USAGE = [
  'Dynatrace Autopilot',
  '',
  `  ${onboardUsage}`,
  `  ${enrollUsage}`,
  `  ${enrollFleetUsage}`,
  `  ${agentCurrentUsage}`,
  `  ${statusUsage}`,
  `  ${runsUsage}`,
  `  ${decideUsage}`,
  `  ${approvalUsage}`,
  `  ${simulateCpuUsage}`,
  `  ${environmentsUsage}`,
  `  ${tokensUsage}`,
  `  ${fleetUsage}`,
  `  ${standardsUsage}`,
  `  ${schedulesUsage}`,
  `  ${secretsUsage}`,
  `  ${doctorUsage}`,
  '',
  'Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 needs attention, 4 still running, 5 changes planned (standards plan), 6 partial (fleet query).',
  'Connection: TEMPORAL_ADDRESS (default: the local dev server of `npm start`), TEMPORAL_NAMESPACE, AUTOPILOT_TASK_QUEUE.',
].join('\n');

export async function runCli(
  argv: string[],
  print: (line: string) => void = (l) => process.stdout.write(l + '\n'),
): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'onboard':
      return onboardCommand(rest, print);
    case 'enroll':
      return enrollCommand(rest, print);
    case 'enroll-fleet':
      return enrollFleetCommand(rest, print);
    case 'agent-current':
      return agentCurrentCommand(rest, print);
    case 'approve':
    case 'reject':
      return approvalCommand(command, rest, print);
    case 'simulate-cpu':
      return simulateCpuCommand(rest, print);
    case 'environments':
      return environmentsCommand(rest, print);
    case 'tokens':
      return tokensCommand(rest, print);
    case 'fleet':
      return fleetCommand(rest, print);
    case 'standards':
      return standardsCommand(rest, print);
    case 'schedules':
      return schedulesCommand(rest, print);
    case 'secrets':
      return secretsCommand(rest, print);
    case 'doctor':
      return doctorCommand(rest, print);
    case 'status':
      return statusCommand(rest, print);
    case 'runs':
      return runsCommand(rest, print);
    case 'retry':
    case 'skip':
    case 'abort':
      return decideCommand(command, rest, print);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      print(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}; run \`autopilot help\``);
  }
}

function isUsageError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Exits once stdout has taken everything printed: a large `--json` into a pipe must not be cut off. */
const exitAfterOutput = (code: number) => process.stdout.write('', () => process.exit(code));

runCli(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`autopilot: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (isUsageError(err) || err instanceof ConfigError) {
      process.stderr.write(`autopilot: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof TemporalUnreachableError) {
      process.stderr.write(`autopilot: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`autopilot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
