import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, type AutopilotConfig } from '../../config/config.js';
import { EnvironmentUrlError, saasUrlRefusal, understandEnvironmentUrl } from '../../dynatrace/environment-url.js';
import { createSecretStore } from '../../secrets/create-secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import { withSandboxSecretKey } from '../../secrets/sandbox-key.js';
import { parseEnvironmentSelector, SelectorError } from '../../shared/environment-selector.js';
import {
  ADOPT_ENVIRONMENTS,
  CLUSTER_NAME,
  ENVIRONMENT_ID,
  adoptionWorkflowId,
  REGISTRY_REQUEST,
  type AdoptionProgress,
  type RegistryRequestInput,
  type RegistryRequestResult,
} from '../../shared/environments.js';
import type { RegisteredEnvironment } from '../../shared/registry.js';
import type { AdoptEnvironments } from '../../workflows/adopt-environments.js';
import type { RegistryRequest } from '../../workflows/registry-request.js';
import { adoptionProgressQuery } from '../../workflows/shared/day-two-queries.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { table, type Print } from '../output.js';

export const environmentsUsage =
  'autopilot environments list [<selector>] [--json] | show <id> | discover [--cluster c] | adopt <selector> [--cluster c] | add --url <environment url> --token-file f [--id x] [--cluster c] [--replace] | remove <id> | tag <id> <tag>... [--remove <tag>]';

const registryRequestId = (input: RegistryRequestInput) =>
  input.op === 'add'
    ? `registry-add:${input.environment.id}`
    : input.op === 'remove'
      ? `registry-remove:${input.id}`
      : input.op === 'tag'
        ? `registry-tag:${input.id}:${randomUUID()}`
        : `registry-${input.op}:${randomUUID()}`;

/** The cluster a command means without `--cluster`: the one there is (the worker refuses when there are several). */
function onlyClusterName(config: AutopilotConfig): string {
  const listed = config.dynatrace.clustersFile ?? [];
  return !config.dynatrace.clusterUrl && listed.length === 1 ? listed[0]!.name : config.dynatrace.clusterName;
}

/** One request to the registry, which lives with the worker: asked through Temporal, answered by it. */
export async function askRegistry(client: Client, taskQueue: string, input: RegistryRequestInput) {
  try {
    return await client.workflow.execute<typeof RegistryRequest>(REGISTRY_REQUEST, {
      taskQueue,
      // Changes have one run per environment (a second start attaches to it); reads are each their own.
      workflowId: registryRequestId(input),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [input],
      staticSummary: `autopilot environments ${input.op}`,
      workflowExecutionTimeout: '5 minutes',
    });
  } catch (err) {
    throw new CliError(failureMessage(err), 1);
  }
}

function failureMessage(err: unknown): string {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

const checkSelector = (text: string) => {
  try {
    parseEnvironmentSelector(text);
  } catch (err) {
    if (err instanceof SelectorError) throw new CliError(err.message);
    throw err;
  }
};

const TAG = /^[A-Za-z0-9_.:=/-]{1,100}$/;

const tokenLine = (e: RegisteredEnvironment) =>
  e.tokens
    .filter((t) => t.state === 'current')
    .map((t) => `${t.purpose}${t.expiresAt ? ` until ${t.expiresAt.slice(0, 10)}` : ''}`)
    .join(', ') || '(none)';

export async function environmentsCommand(argv: string[], print: Print): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      cluster: { type: 'string' },
      id: { type: 'string' },
      url: { type: 'string' },
      'token-file': { type: 'string' },
      kind: { type: 'string' },
      replace: { type: 'boolean', default: false },
      remove: { type: 'string', multiple: true },
    },
  });
  if (values.cluster !== undefined && !CLUSTER_NAME.test(values.cluster))
    throw new CliError(`--cluster ${JSON.stringify(values.cluster)} is not a cluster name`);
  const [subject] = positionals;
  switch (action) {
    case 'list':
      if (subject) checkSelector(subject);
      break;
    case 'show':
    case 'remove':
      if (!subject || !ENVIRONMENT_ID.test(subject))
        throw new CliError(`usage: autopilot environments ${action} <environment id>`);
      break;
    case 'adopt':
      if (!subject) throw new CliError('usage: autopilot environments adopt <selector> (e.g. "*-p*")');
      checkSelector(subject);
      break;
    case 'tag': {
      const tags = [...positionals.slice(1), ...(values.remove ?? [])];
      if (!subject || !ENVIRONMENT_ID.test(subject) || tags.length === 0)
        throw new CliError('usage: autopilot environments tag <environment id> <tag>... [--remove <tag>]');
      const bad = tags.find((t) => !TAG.test(t));
      if (bad) throw new CliError(`${JSON.stringify(bad)} is not a tag: letters, digits and . _ - : = / (tier:gold)`);
      break;
    }
    case 'add':
      return addEnvironment(values, print);
    case 'discover':
      break;
    default:
      throw new CliError(`usage: ${environmentsUsage}`);
  }

  const ctx = await connect();
  try {
    const taskQueue = ctx.config.temporal.taskQueue;
    if (action === 'adopt') {
      const cluster = values.cluster ?? onlyClusterName(ctx.config);
      return await adopt(ctx.client, taskQueue, subject!, cluster, values.cluster !== undefined, values.json, print);
    }
    const request: RegistryRequestInput =
      action === 'list'
        ? { op: 'list', ...(subject ? { selector: subject } : {}) }
        : action === 'show'
          ? { op: 'show', id: subject! }
          : action === 'remove'
            ? { op: 'remove', id: subject! }
            : action === 'tag'
              ? { op: 'tag', id: subject!, add: positionals.slice(1), remove: values.remove ?? [] }
              : { op: 'discover', ...(values.cluster ? { cluster: values.cluster } : {}) };
    const result = await askRegistry(ctx.client, taskQueue, request);
    if (values.json) {
      print(JSON.stringify(result));
      return 0;
    }
    printResult(result, subject, print);
    return (result.op === 'show' || result.op === 'tag') && !result.environment ? 1 : 0;
  } finally {
    await ctx.close();
  }
}

function printResult(result: RegistryRequestResult, subject: string | undefined, print: Print): void {
  switch (result.op) {
    case 'list':
      if (result.environments.length === 0) {
        print(subject ? `no registered environment matches ${subject}` : 'no environment is registered yet');
        return;
      }
      table([
        ['ENVIRONMENT', 'KIND', 'CLUSTER', 'SOURCE', 'STATE', 'TAGS', 'TOKENS'],
        ...result.environments.map((e) => [
          e.id,
          e.kind,
          e.cluster ?? '',
          e.source,
          e.state,
          e.tags.join(',') || '—',
          tokenLine(e),
        ]),
      ]).forEach(print);
      return;
    case 'show': {
      const e = result.environment;
      if (!e) {
        print(`${subject} is not in the registry`);
        return;
      }
      print(
        `${e.id}: ${e.kind}${e.cluster ? ` on ${e.cluster}` : ''}, ${e.source}, ${e.state}${e.attention ? ` (${e.attention})` : ''}`,
      );
      print(`  API          ${e.apiUrl}`);
      if (e.customer) print(`  customer     ${e.customer}${e.stage ? `, stage ${e.stage}` : ''}`);
      if (e.tags.length) print(`  tags         ${e.tags.join(', ')}`);
      print(`  scopes       ${e.scopesCheckedAt ? `checked ${e.scopesCheckedAt}` : 'not checked yet'}`);
      for (const t of e.tokens) {
        print(
          `  ${t.purpose.padEnd(18)} ${t.tokenId} ${t.state}${t.expiresAt ? `, expires ${t.expiresAt}` : ''}${t.mintedByUs ? '' : ', handed over'}`,
        );
      }
      return;
    }
    case 'discover': {
      const known = result.environments.filter((e) => e.registered).length;
      print(`${result.environments.length} environment(s) on ${result.cluster}, ${known} registered`);
      table([
        ['ENVIRONMENT', 'NAME', 'STATE', 'AUTOPILOT'],
        ...result.environments.map((e) => [e.id, e.name, e.state, e.registered ?? '—']),
      ]).forEach(print);
      return;
    }
    case 'tag':
      print(
        result.environment
          ? `${result.environment.id}: ${result.environment.tags.join(', ') || 'no tags'}`
          : `${subject} is not in the registry`,
      );
      return;
    case 'remove':
      print(
        result.removed
          ? `forgot ${subject}${result.revoked.length ? `; revoked ${result.revoked.join(', ')}` : ''}`
          : `${subject} is not in the registry; nothing changed`,
      );
      return;
    default:
      return;
  }
}

async function adopt(
  client: Client,
  taskQueue: string,
  selector: string,
  clusterName: string,
  named: boolean,
  json: boolean,
  print: Print,
): Promise<number> {
  const handle = await client.workflow.start<typeof AdoptEnvironments>(ADOPT_ENVIRONMENTS, {
    taskQueue,
    workflowId: adoptionWorkflowId(clusterName, selector),
    args: [{ selector, ...(named ? { cluster: clusterName } : {}) }],
    staticSummary: `Adopt the environments matching ${selector} on ${clusterName}`,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  if (!json) print(`adopting environments matching ${selector} (workflow ${handle.workflowId})`);
  const bar = (p: AdoptionProgress) => {
    const width = 30;
    const filled = p.matched === 0 ? width : Math.round((p.done / p.matched) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.matched}`;
  };
  let last = '';
  const result = handle.result();
  let finished = false;
  void result.finally(() => (finished = true)).catch(() => undefined);
  while (!finished && !json) {
    await new Promise((r) => setTimeout(r, 1000));
    const progress = await handle.query(adoptionProgressQuery).catch(() => undefined);
    const line = progress ? bar(progress) : '';
    if (progress && line !== last) print(line);
    last = line || last;
  }
  let done: AdoptionProgress;
  try {
    done = await result;
  } catch (err) {
    throw new CliError(failureMessage(err), 1);
  }
  if (json) print(JSON.stringify(done));
  else if (done.matched === 0) print(`no environment on ${done.cluster} matches ${selector}; nothing changed`);
  else print(`${bar(done)}: ${done.adopted} adopted, ${done.alreadyRegistered} already registered`);
  return 0;
}

/**
 * The token goes into the secret store under a staging name of its own (random, below
 * `staging/registry/`) before the registration is asked for, so no workflow input or history ever
 * holds it, and the registration takes no other reference; it moves the token or deletes it. The URL
 * is understood here as operators paste it (for early, clear errors); the worker decides again.
 */
async function addEnvironment(
  values: {
    id?: string;
    url?: string;
    'token-file'?: string;
    cluster?: string;
    kind?: string;
    replace: boolean;
    json: boolean;
  },
  print: Print,
): Promise<number> {
  const config = loadConfig();
  const understood = values.url === undefined ? undefined : understandUrl(values.url, config.dynatrace.saasDomains);
  // Said at once, so the operator learns it even when something else stops the command.
  for (const note of understood?.notes ?? []) {
    if (values.json) process.stderr.write(`autopilot: note: ${note}\n`);
    else print(`note: ${note}`);
  }
  const id = values.id ?? understood?.environmentId;
  if (!id || !ENVIRONMENT_ID.test(id)) {
    throw new CliError(`--id ${JSON.stringify(id ?? '')} is not an environment id (letters, digits, "-", "_")`);
  }
  if (understood && understood.environmentId !== id) {
    throw new CliError(
      `--id ${id} is not the environment of ${understood.url}: its URL names ${understood.environmentId}`,
    );
  }
  const kind = values.kind ?? (values.cluster !== undefined || understood?.form === 'managed' ? 'managed' : 'saas');
  if (kind !== 'managed' && kind !== 'saas') throw new CliError('--kind must be managed or saas');
  if (understood && understood.form !== kind) {
    throw new CliError(
      understood.form === 'managed'
        ? `${understood.url} is a Managed environment's URL (/e/<id>), not a SaaS one's`
        : `${understood.url} is a SaaS environment's URL; a Managed one's is its cluster's plus /e/<id>`,
    );
  }
  if (kind === 'saas') {
    if (!understood)
      throw new CliError('--url is required for a SaaS environment, e.g. https://abc12345.live.dynatrace.com');
    if (values.cluster !== undefined) throw new CliError('a SaaS environment lives on no cluster: leave out --cluster');
    // Whether plain http is allowed is the worker's to say (only the sandbox's may).
    const refusal = saasUrlRefusal(understood.url, { saasDomains: config.dynatrace.saasDomains, sandbox: true });
    if (refusal) throw new CliError(refusal);
  }
  if (!values['token-file']) throw new CliError('--token-file is required: a file holding the environment token');
  let token: string;
  try {
    token = readFileSync(values['token-file'], 'utf8').trim();
  } catch (err) {
    throw new CliError(`cannot read ${values['token-file']}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!/^dt0[a-z]\d{2}\.[A-Za-z0-9]+\.[A-Za-z0-9]+$/.test(token)) {
    throw new CliError(`${values['token-file']} does not hold a Dynatrace token (dt0c01.…)`);
  }
  const store = createSecretStore(withSandboxSecretKey(config));
  const stagedSecretRef = secretRefs.registrationStaging();
  await store.put(stagedSecretRef, token, { kind: 'registration' });
  const ctx = await connect();
  try {
    const result = await askRegistry(ctx.client, ctx.config.temporal.taskQueue, {
      op: 'add',
      environment: {
        id,
        kind,
        stagedSecretRef,
        ...(understood ? { apiUrl: understood.url } : {}),
        ...(values.cluster ? { cluster: values.cluster } : {}),
        ...(values.replace ? { replace: true } : {}),
      },
    });
    if (result.op !== 'add') return 1;
    if (values.json) print(JSON.stringify(result.environment));
    else
      print(
        `registered ${result.environment.id} (${result.environment.kind}, ${result.environment.apiUrl}); tokens: ${tokenLine(result.environment)}`,
      );
    return 0;
  } finally {
    // The registration deletes it too; a run this start attached to, or none at all, leaves it to us.
    await store.delete(stagedSecretRef).catch(() => undefined);
    await ctx.close();
  }
}

/** The pasted URL understood, or the reason it cannot be, naming its form. */
function understandUrl(url: string, saasDomains: readonly string[]) {
  try {
    return understandEnvironmentUrl(url, saasDomains);
  } catch (err) {
    if (err instanceof EnvironmentUrlError) throw new CliError(`--url: ${err.message}`);
    throw err;
  }
}
