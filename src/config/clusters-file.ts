import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { ClusterEndpoint } from '../dynatrace/dynatrace-clients.js';
import { CLUSTER_NAME } from '../shared/environments.js';
import { ConfigError } from './config-error.js';
import { clusterBaseUrl } from './formats.js';
import { FileSecret } from './secret.js';
import { fieldPath, nodeAt } from './yaml-location.js';
import { YamlAliasError, yamlValue } from './yaml-value.js';

/** Requests in flight to one cluster in all, per worker, unless its entry says otherwise. */
export const DEFAULT_CLUSTER_CONCURRENCY = 50;

const clusterSchema = z
  .object({
    name: z.string().regex(CLUSTER_NAME, {
      message: 'must be a cluster name: lowercase letters, digits or "-" (e.g. eu1)',
    }),
    url: clusterBaseUrl,
    tokenFile: z.string().min(1, 'must name the file with the cluster token'),
    caFile: z.string().min(1).optional(),
    maxConcurrentRequests: z.number().int().positive().default(DEFAULT_CLUSTER_CONCURRENCY),
    maxConcurrentRequestsPerEnvironment: z.number().int().positive().optional(),
  })
  .strict();

const fileSchema = z.object({ clusters: z.array(clusterSchema).min(1, 'must list at least one cluster') }).strict();

/**
 * The Managed clusters of `AUTOPILOT_CLUSTERS_FILE`: a YAML `clusters:` list of name, url, tokenFile,
 * optional caFile and concurrency caps. A mistake is one line naming the file, the line and the field.
 */
export function readClustersFile(
  file: string,
  defaults: { maxConcurrentRequestsPerEnvironment: number },
): ClusterEndpoint[] {
  const fail = (line: number | undefined, what: string): never => {
    throw new ConfigError('AUTOPILOT_CLUSTERS_FILE', `${file}${line ? `:${line}` : ''}: ${what}`);
  };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(undefined, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  const [syntax] = doc.errors;
  if (syntax) fail(lineOf(syntax.pos[0]), `is not valid YAML: ${syntax.message.split('\n')[0]}`);

  let value: unknown;
  try {
    value = yamlValue(doc, lines);
  } catch (err) {
    if (!(err instanceof YamlAliasError)) throw err;
    fail(err.line, err.message);
  }
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = fieldPath(issue.path);
    const field = issue.code === 'unrecognized_keys' ? `${where ? `${where}.` : ''}${issue.keys[0]}` : where;
    fail(lineOf(nodeAt(doc.contents, issue.path)?.range?.[0]), `${field || 'clusters'} ${issue.message}`);
  }
  const clusters = parsed.data!.clusters;
  const seen = new Set<string>();
  const base = path.dirname(file);
  return clusters.map((c, i) => {
    const line = lineOf(nodeAt(doc.contents, ['clusters', i, 'name'])?.range?.[0]);
    if (seen.has(c.name)) fail(line, `clusters[${i}].name ${c.name} is listed twice`);
    seen.add(c.name);
    const read = (field: 'tokenFile' | 'caFile', name: string) => {
      const resolved = path.resolve(base, name);
      try {
        const content = readFileSync(resolved, 'utf8');
        if (content.trim() === '') fail(line, `clusters[${i}].${field} names an empty file: ${resolved}`);
        return { resolved, content };
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        return fail(
          lineOf(nodeAt(doc.contents, ['clusters', i, field])?.range?.[0]),
          `clusters[${i}].${field} names a file that cannot be read: ${resolved} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
        );
      }
    };
    const token = read('tokenFile', c.tokenFile);
    return {
      name: c.name,
      url: c.url.replace(/\/$/, ''),
      token: new FileSecret(token.resolved, token.content.replace(/\r?\n$/, '')),
      ...(c.caFile ? { caCertificate: read('caFile', c.caFile).content } : {}),
      maxConcurrentRequests: c.maxConcurrentRequests,
      maxConcurrentRequestsPerEnvironment:
        c.maxConcurrentRequestsPerEnvironment ?? defaults.maxConcurrentRequestsPerEnvironment,
    };
  });
}
