import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
// Not re-exported from the package root in 1.24.
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes.js';
import { AUTOPILOT_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';

/**
 * Registers our custom search attributes in the namespace if they are missing. Idempotent; the dev
 * server only honours `--search-attribute` when it creates a fresh database, so we always go through
 * the operator API instead.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: SearchAttributeKey<SearchAttributeType>[] = AUTOPILOT_SEARCH_ATTRIBUTES,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([
    ...Object.keys(existing.customAttributes ?? {}),
    ...Object.keys(existing.systemAttributes ?? {}),
  ]);
  const missing = keys.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  return missing.map((key) => key.name);
}
