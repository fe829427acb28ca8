import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { fieldPath, lineAt } from '../config/yaml-location.js';
import { YamlAliasError, yamlValue } from '../config/yaml-value.js';
import type { Standard, StandardsSet } from '../shared/standards.js';
import { checkPlaceholders, referencedStandards, type PlaceholderContext } from './placeholders.js';
import {
  FOLDER_SETTINGS_FILE,
  folderSettingsDocument,
  standardDocument,
  type StandardDocument,
} from './standard-document.js';
import { isStandardsSecret, notAStandardsSecret } from './standards-secrets.js';

/** One mistake in a standards folder: where it is and what is wrong, printed as one line. */
export interface StandardsProblem {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

export const formatProblem = (p: StandardsProblem) =>
  `${p.file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field} ` : ''}${p.message}`;

export class InvalidStandardsError extends Error {
  constructor(readonly problems: StandardsProblem[]) {
    super(
      `${problems.length} problem(s) in the standards; nothing was planned or applied:\n` +
        problems.map(formatProblem).join('\n'),
    );
    this.name = 'InvalidStandardsError';
  }
}

export interface Located {
  document: StandardDocument;
  file: string;
  /** Line of each field path (`value.rules[0]`), for the checks that come after parsing. */
  lineOf: (keys: readonly PropertyKey[]) => number | undefined;
}

function yamlFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) found.push(full);
    }
  };
  walk(dir);
  return found;
}

/** The commit the folder is at, when it is a git work tree, and whether it has uncommitted changes. */
function gitOrigin(dir: string): { commit?: string; dirty?: boolean } {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', 'HEAD');
    return { commit, dirty: git('status', '--porcelain', '--', '.') !== '' };
  } catch {
    return {};
  }
}

/** Key order and source locations do not change what a set of standards means, so they do not change its hash. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function standardsHash(standards: readonly Standard[], prune: boolean): string {
  const content = [...standards]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ source: _where, ...meaning }) => meaning);
  return createHash('sha256')
    .update(JSON.stringify(canonical({ standards: content, prune })))
    .digest('hex');
}

function toStandard(d: StandardDocument, source: string): Standard {
  const common = {
    name: d.name,
    ...(d.description ? { description: d.description } : {}),
    environments: d.environments,
    mode: d.mode,
    source,
  };
  switch (d.kind) {
    case 'settings':
      return {
        ...common,
        kind: 'settings',
        settings: { schemaId: d.schemaId, scope: d.scope, value: d.value },
        unordered: d.unordered,
        overrides: d.overrides,
        ...(d.externalId ? { externalId: d.externalId } : {}),
      };
    case 'user-group':
      return { ...common, kind: 'user-group', group: d.group, overrides: d.overrides };
    case 'environment-quotas':
      return { ...common, kind: 'environment-quotas', quotas: d.quotas, overrides: d.overrides };
  }
}

/**
 * Reads and validates a standards folder: every `*.yaml`/`*.yml` below it (each YAML document one
 * standard) and the optional `autopilot-standards.yaml`. Every mistake is reported with its file,
 * line and field; the set is returned only when there is none.
 */
export function loadStandards(dir: string): StandardsSet {
  const root = path.resolve(dir);
  const relative = (file: string) => path.relative(process.cwd(), file) || file;
  let isFolder = false;
  try {
    isFolder = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isFolder) {
    throw new InvalidStandardsError([{ file: relative(root), message: 'is not a folder of standards' }]);
  }
  const problems: StandardsProblem[] = [];
  const located: Located[] = [];
  let prune = false;

  for (const file of yamlFiles(root)) {
    const name = relative(file);
    const text = readFileSync(file, 'utf8');
    const lines = new LineCounter();
    /** The document's plain value, or undefined with the problem of its aliases recorded. */
    const valueOf = (doc: Document.Parsed): { value: unknown } | undefined => {
      try {
        return { value: yamlValue(doc, lines) };
      } catch (err) {
        if (!(err instanceof YamlAliasError)) throw err;
        problems.push({ file: name, line: err.line, message: err.message });
        return undefined;
      }
    };
    if (path.relative(root, file) === FOLDER_SETTINGS_FILE) {
      const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
      const [syntax] = doc.errors;
      if (syntax) {
        problems.push({ file: name, line: lines.linePos(syntax.pos[0]).line, message: syntax.message.split('\n')[0]! });
        continue;
      }
      const plain = valueOf(doc);
      if (!plain) continue;
      const parsed = folderSettingsDocument.safeParse(plain.value ?? {});
      if (parsed.success) prune = parsed.data.prune;
      else problems.push(...issuesOf(parsed.error.issues, name, (k) => lineAt(doc.contents, k, lines)));
      continue;
    }
    for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false })) {
      if (!('errors' in doc)) continue;
      const [syntax] = doc.errors;
      if (syntax) {
        problems.push({
          file: name,
          line: lines.linePos(syntax.pos[0]).line,
          message: `is not valid YAML: ${syntax.message.split('\n')[0]}`,
        });
        continue;
      }
      const raw = valueOf(doc)?.value;
      if (raw === null || raw === undefined) continue;
      const lineOf = (keys: readonly PropertyKey[]) => lineAt(doc.contents, keys, lines);
      const parsed = standardDocument.safeParse(raw);
      if (!parsed.success) {
        problems.push(...issuesOf(parsed.error.issues, name, lineOf));
        continue;
      }
      located.push({ document: parsed.data, file: name, lineOf });
    }
  }

  problems.push(...crossChecks(located));
  if (problems.length > 0) throw new InvalidStandardsError(problems);
  const standards = located.map((l) => toStandard(l.document, `${l.file}:${l.lineOf([]) ?? 1}`));
  return {
    hash: standardsHash(standards, prune),
    standards,
    prune,
    origin: { path: relative(root), ...gitOrigin(root) },
  };
}

function issuesOf(
  issues: readonly { path: PropertyKey[]; message: string; code: string; keys?: string[] }[],
  file: string,
  lineOf: (keys: readonly PropertyKey[]) => number | undefined,
): StandardsProblem[] {
  return issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' && issue.keys?.[0] ? [...issue.path, issue.keys[0]] : issue.path;
    const message = issue.code === 'unrecognized_keys' ? 'is not a field of a standard of this kind' : issue.message;
    return { file, line: lineOf(keys), field: fieldPath(keys) || 'standard', message };
  });
}

/** Write-only fields (a secret header's value) whose text is not a `{{ secret "…" }}` reference. */
function inlineSecrets(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => inlineSecrets(v, [...path, i]));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === 'secretValue' && typeof v === 'string' && !/^\s*\{\{\s*secret\s+"[^"]+"\s*\}\}\s*$/.test(v)
      ? [[...path, k]]
      : inlineSecrets(v, [...path, k]),
  );
}

/** What only the whole folder can tell: unique names, placeholders, references and their cycles. */
export function crossChecks(located: Located[]): StandardsProblem[] {
  const problems: StandardsProblem[] = [];
  const seen = new Map<string, string>();
  for (const l of located) {
    const where = `${l.file}:${l.lineOf(['name']) ?? 1}`;
    const first = seen.get(l.document.name);
    if (first) {
      problems.push({
        file: l.file,
        line: l.lineOf(['name']),
        field: 'name',
        message: `${l.document.name} is already declared at ${first}`,
      });
    } else seen.set(l.document.name, where);
  }
  const settingsStandards = new Set(located.filter((l) => l.document.kind === 'settings').map((l) => l.document.name));
  const context: PlaceholderContext = {
    settingsStandards,
    secretProblem: (ref) => (isStandardsSecret(ref) ? undefined : notAStandardsSecret(ref)),
  };
  const noSecretsOrRefs: PlaceholderContext = { plainOnly: true };

  for (const l of located) {
    const d = l.document;
    const check = (value: unknown, at: (string | number)[], ctx: PlaceholderContext) => {
      for (const issue of checkPlaceholders(value, ctx)) {
        const keys = [...at, ...issue.path];
        problems.push({ file: l.file, line: l.lineOf(keys), field: fieldPath(keys), message: issue.message });
      }
    };
    if (d.kind === 'settings') {
      check(d.scope, ['scope'], noSecretsOrRefs);
      if (d.externalId) check(d.externalId, ['externalId'], noSecretsOrRefs);
      check(d.value, ['value'], context);
      d.overrides.forEach((o, i) => check(o.value, ['overrides', i, 'value'], context));
      const inline = (value: unknown, at: (string | number)[]) => {
        for (const path of inlineSecrets(value)) {
          const keys = [...at, ...path];
          problems.push({
            file: l.file,
            line: l.lineOf(keys),
            field: fieldPath(keys),
            message: 'is a secret: give it by reference, {{ secret "name" }}, never inline',
          });
        }
      };
      inline(d.value, ['value']);
      d.overrides.forEach((o, i) => inline(o.value, ['overrides', i, 'value']));
    } else if (d.kind === 'user-group') {
      check(d.group, ['group'], noSecretsOrRefs);
      d.overrides.forEach((o, i) => check(o.group, ['overrides', i, 'group'], noSecretsOrRefs));
    }
  }

  // A standard that refers to itself, directly or through others, could never be created.
  const refs = new Map(
    located
      .filter((l) => l.document.kind === 'settings')
      .map((l) => {
        const d = l.document as Extract<StandardDocument, { kind: 'settings' }>;
        return [d.name, [...referencedStandards(d.value), ...d.overrides.flatMap((o) => referencedStandards(o.value))]];
      }),
  );
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const next of refs.get(name) ?? []) {
      const cycle = visit(next, [...trail, name]);
      if (cycle) return cycle;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const l of located) {
    if (l.document.kind !== 'settings') continue;
    const cycle = visit(l.document.name, []);
    if (cycle) {
      problems.push({
        file: l.file,
        line: l.lineOf(['value']),
        field: 'value',
        message: `refers to itself through ${cycle.join(' → ')}`,
      });
      break;
    }
  }
  return problems;
}
