import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { FleetQueryError, parseFleetPath } from '../../fleet/fleet-path.js';
import type { FleetAnswer } from '../../fleet/fleet-query.js';
import { parseEnvironmentSelector, SelectorError } from '../../shared/environment-selector.js';
import { CliError } from '../cli-error.js';
import { table, type Print } from '../output.js';

export const fleetUsage =
  'autopilot fleet query <GET|POST|PUT|DELETE> <path> [--environments <selector>] [--concurrency <n>] [--all-pages] [--data <json>] [--json]';

/** Exit code when some environments answered and some did not. */
export const PARTIAL_EXIT_CODE = 6;

const HELP = [
  fleetUsage,
  '',
  'Sends one Dynatrace environment API request to every selected environment of the registry,',
  'with the token Autopilot holds there, through the fleet server (AUTOPILOT_FLEET_URL).',
  'GET sends AUTOPILOT_FLEET_READ_TOKEN; POST, PUT and DELETE send AUTOPILOT_FLEET_WRITE_TOKEN.',
  '  path           an environment API path and query: \'/api/v2/problems?problemSelector=status("open")\'',
  "  --environments which ones: '*-p*', 'customer:abc stage:p?', 'cluster:eu1 kind:managed' (default: all)",
  '  --concurrency  environments asked at once (each cluster keeps its own caps)',
  '  --all-pages    follow nextPageKey and join the pages of each environment',
  '  --json         one JSON line per environment as answers arrive, then a summary line',
  '',
  `Exit codes: 0 every environment answered, ${PARTIAL_EXIT_CODE} partial (some failed; their rows say why),`,
  '1 none answered or none matched, 2 usage error.',
].join('\n');

interface Summary {
  done: true;
  environments: number;
  ok: number;
  failed: number;
  outcome: 'complete' | 'partial' | 'failed' | 'empty';
}

/** A short description of an answer's body for the table: the list's size, or its top-level fields. */
function describe(body: unknown): string {
  if (Array.isArray(body)) return `${body.length} item(s)`;
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const list = Object.entries(record).find(([, v]) => Array.isArray(v));
    if (list) {
      const total = typeof record.totalCount === 'number' ? ` of ${record.totalCount}` : '';
      return `${(list[1] as unknown[]).length}${total} ${list[0]}`;
    }
    return Object.keys(record).slice(0, 4).join(', ');
  }
  return body === undefined ? '' : JSON.stringify(body).slice(0, 60);
}

export async function fleetCommand(argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      environments: { type: 'string' },
      concurrency: { type: 'string' },
      'all-pages': { type: 'boolean', default: false },
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    print(HELP);
    return 0;
  }
  const [sub, method, apiPath] = positionals;
  if (sub !== 'query' || !method || !apiPath || positionals.length > 3) throw new CliError(`usage: ${fleetUsage}`);
  if (values.concurrency !== undefined && !/^\d{1,4}$/.test(values.concurrency))
    throw new CliError(`--concurrency must be a whole number, got ${JSON.stringify(values.concurrency)}`);
  let body: string | undefined;
  if (values.data !== undefined) {
    try {
      body = JSON.stringify(JSON.parse(values.data));
    } catch {
      throw new CliError('--data must be JSON');
    }
  }
  const verb = method.toUpperCase();
  try {
    // Refused here already, with the same reason the fleet server would give.
    parseFleetPath(verb, apiPath);
    if (values.environments !== undefined) parseEnvironmentSelector(values.environments);
  } catch (err) {
    if (err instanceof FleetQueryError || err instanceof SelectorError) throw new CliError(err.message);
    throw err;
  }
  const config = loadConfig();
  const base = config.fleetServer.url ?? `http://${config.fleetServer.host}:${config.fleetServer.port}`;
  const { read, write } = config.fleetServer.tokens;
  if (verb !== 'GET' && read && !write) {
    throw new CliError(
      `${verb} writes to every selected environment and needs AUTOPILOT_FLEET_WRITE_TOKEN (or _FILE); AUTOPILOT_FLEET_READ_TOKEN only reads`,
    );
  }
  // Each request carries the credential of its job: the read token unless it writes.
  const token = (verb === 'GET' ? (read ?? write) : write)?.reveal();
  const [pathOnly, query = ''] = apiPath.replace(/^\/?(api\/)?/, '').split(/\?(.*)/s, 2) as [string, string?];
  const params = new URLSearchParams(query);
  if (values.environments !== undefined) params.set('environments', values.environments);
  if (values.concurrency !== undefined) params.set('concurrency', values.concurrency);
  if (values['all-pages']) params.set('allPages', 'true');
  const url = `${base}/fleet/api/${pathOnly}?${params.toString()}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: verb,
      headers: {
        accept: 'application/x-ndjson',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
  } catch (err) {
    throw new CliError(`the fleet server at ${base} does not answer (${(err as Error).message}); is it running?`, 1);
  }
  if (!response.ok) {
    const reason = await response
      .json()
      .then((b) => (b as { message?: string }).message)
      .catch(() => undefined);
    throw new CliError(
      `fleet server refused (${response.status})${reason ? `: ${reason}` : ''}`,
      response.status === 400 ? 2 : 1,
    );
  }
  const answers: FleetAnswer[] = [];
  let summary: Summary | undefined;
  const decoder = new TextDecoder();
  let buffered = '';
  const take = (line: string) => {
    if (!line.trim()) return;
    const parsed = JSON.parse(line) as FleetAnswer | Summary;
    if ('done' in parsed) summary = parsed;
    else answers.push(parsed);
    if (values.json) print(line);
  };
  for await (const chunk of response.body!) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      take(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  take(buffered);
  if (!summary) throw new CliError('the fleet server ended the answer early; some environments are missing', 1);
  if (!values.json) {
    const sorted = [...answers].sort(
      (a, b) => Number(a.ok) - Number(b.ok) || a.environmentId.localeCompare(b.environmentId),
    );
    if (sorted.length > 0) {
      table([
        ['ENVIRONMENT', 'CLUSTER', 'STATUS', 'PAGES', 'MS', 'ANSWER'],
        ...sorted.map((a) => [
          a.environmentId,
          a.cluster ?? 'saas',
          a.ok ? String(a.status) : `ERROR${a.status ? ` ${a.status}` : ''}`,
          String(a.pages),
          String(a.durationMs),
          a.ok ? describe(a.body) : (a.error ?? ''),
        ]),
      ]).forEach(print);
    }
    print(
      summary.outcome === 'empty'
        ? 'no environment matches'
        : `${summary.ok} of ${summary.environments} environment(s) answered${summary.failed ? `, ${summary.failed} failed` : ''}`,
    );
  }
  return summary.outcome === 'complete' ? 0 : summary.outcome === 'partial' ? PARTIAL_EXIT_CODE : 1;
}
