import type { Standard, StandardsSet } from '../shared/standards.js';
import { crossChecks, formatProblem, standardsHash, type Located } from './load-standards.js';
import { standardDocument } from './standard-document.js';

/** A standard as it was written in its file (the loader's shape turned back). */
function asDocument(standard: Standard): unknown {
  const { kind, name, description, environments, mode, overrides } = standard;
  const common = { name, ...(description ? { description } : {}), environments, mode, overrides };
  switch (standard.kind) {
    case 'settings':
      return {
        ...common,
        kind,
        schemaId: standard.settings.schemaId,
        scope: standard.settings.scope,
        value: standard.settings.value,
        unordered: standard.unordered,
        ...(standard.externalId ? { externalId: standard.externalId } : {}),
      };
    case 'user-group':
      return { ...common, kind, group: standard.group };
    case 'environment-quotas':
      return { ...common, kind, quotas: standard.quotas };
  }
}

/**
 * What is wrong with a standards set handed to a workflow, by the same rules the CLI's loader
 * applies to a folder (a provisioning system may build one without our CLI), or undefined.
 */
export function invalidStandardsSet(set: StandardsSet): string | undefined {
  if (!Array.isArray(set?.standards)) return 'standards must be a list';
  const located: Located[] = [];
  for (const [i, standard] of set.standards.entries()) {
    const file = typeof standard?.source === 'string' ? standard.source : `standards[${i}]`;
    const parsed = standardDocument.safeParse(asDocument(standard));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return `${file}: ${issue.path.join('.') || 'standard'} ${issue.message}`;
    }
    located.push({ document: parsed.data, file, lineOf: () => undefined });
  }
  const [problem] = crossChecks(located);
  if (problem) return formatProblem(problem);
  if (typeof set.prune !== 'boolean') return 'prune must be true or false';
  if (standardsHash(set.standards, set.prune) !== set.hash) {
    return `hash ${String(set.hash).slice(0, 16)} is not the hash of these standards`;
  }
  return undefined;
}
