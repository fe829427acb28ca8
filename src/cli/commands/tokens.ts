import { parseArgs } from 'node:util';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { table, type Print } from '../output.js';
import { askRegistry } from './environments.js';

export const tokensUsage = 'autopilot tokens [--expiring <days>d] [--json]';

/** The tokens Autopilot holds across the registry, soonest expiry first. */
export async function tokensCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { expiring: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  let days: number | undefined;
  if (values.expiring !== undefined) {
    const match = /^(\d{1,4})d?$/.exec(values.expiring);
    if (!match)
      throw new CliError(`--expiring must be a number of days like 7d, got ${JSON.stringify(values.expiring)}`);
    days = Number(match[1]);
  }
  const ctx = await connect();
  try {
    const result = await askRegistry(ctx.client, ctx.config.temporal.taskQueue, {
      op: 'tokens',
      ...(days !== undefined ? { expiringWithinDays: days } : {}),
    });
    if (result.op !== 'tokens') return 1;
    if (values.json) {
      print(JSON.stringify(result.tokens));
      return 0;
    }
    if (result.tokens.length === 0) {
      print(days !== undefined ? `no token expires within ${days} days` : 'Autopilot holds no token yet');
      return 0;
    }
    table([
      ['ENVIRONMENT', 'PURPOSE', 'TOKEN', 'STATE', 'EXPIRES', 'DAYS LEFT', 'MINTED BY'],
      ...result.tokens.map((t) => [
        t.environmentId,
        t.purpose,
        t.tokenId,
        t.state,
        t.expiresAt ?? 'never',
        t.daysLeft === undefined ? '' : String(t.daysLeft),
        t.mintedByUs ? 'autopilot' : 'operator',
      ]),
    ]).forEach(print);
    return 0;
  } finally {
    await ctx.close();
  }
}
