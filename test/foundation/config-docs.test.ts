import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configuration } from '../../src/config/configuration.js';
import { projectRoot } from '../../src/config/project-root.js';
import { CONFIG_TABLES, variablesOf } from '../../src/config/variable.js';
import { README, configRows, tableIn, withConfigTables } from '../../scripts/generate-config-docs.js';
import { markdownTableRows } from '../helpers/markdown-table.js';

const variables = variablesOf(configuration);

/** A table's body rows as README has them, cells trimmed. */
const documentedRows = (readme: string, table: (typeof CONFIG_TABLES)[number]): string[][] =>
  markdownTableRows(tableIn(readme, table));

const variableOf = (cell: string) => cell.replace(/^`|`$/g, '').replace(/\[_FILE\]$/, '');

describe("README's configuration tables", () => {
  const readme = readFileSync(README, 'utf8');

  it.each(CONFIG_TABLES)('config:%s has one row per variable declared for it, as declared', (table) => {
    const documented = new Map(documentedRows(readme, table).map((cells) => [variableOf(cells[0]!), cells]));
    const declared = new Map(configRows(table).map((row) => [row.variable, row.cells as string[]]));
    const differing = [...new Set([...declared.keys(), ...documented.keys()])]
      .filter((name) => JSON.stringify(declared.get(name)) !== JSON.stringify(documented.get(name)))
      .map((name) =>
        !documented.has(name)
          ? `${name}: missing from README`
          : !declared.has(name)
            ? `${name}: in README but not declared for this table`
            : `${name}: README has ${JSON.stringify(documented.get(name))}, declared ${JSON.stringify(declared.get(name))}`,
      );
    expect(differing, `run npm run docs:config`).toEqual([]);
  });

  it('is exactly what `npm run docs:config` writes (order and layout too)', async () => {
    expect(await withConfigTables(readme)).toBe(readme);
  });

  it('documents every variable once: names are unique, and every table row is a declared variable', () => {
    const names = variables.map((v) => v.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    const rows = CONFIG_TABLES.flatMap((table) => documentedRows(readme, table).map((cells) => variableOf(cells[0]!)));
    expect(rows.toSorted()).toEqual(names.toSorted());
  });

  it('declares every variable of ours the product reads outside src/config', () => {
    const declared = new Set(variables.flatMap((v) => (v.secret ? [v.name, `${v.name}_FILE`] : [v.name])));
    const readsIn = (text: string) =>
      [...text.matchAll(/\benv(?:\.|\[['"])((?:AUTOPILOT|TEMPORAL|DT|WEBHOOK|REMEDIATION|AWS)_[A-Z0-9_]+)/g)].map(
        (m) => m[1]!,
      );
    expect(readsIn(`process.env.AUTOPILOT_X ?? env['DT_Y'] ?? env.HOME ?? 'AUTOPILOT_Z'`)).toEqual([
      'AUTOPILOT_X',
      'DT_Y',
    ]);
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) return file === path.join(projectRoot, 'src', 'config') ? [] : sources(file);
        return entry.name.endsWith('.ts') ? [file] : [];
      });
    const undeclared = sources(path.join(projectRoot, 'src')).flatMap((file) =>
      readsIn(readFileSync(file, 'utf8'))
        .filter((name) => !declared.has(name))
        .map((name) => `${path.relative(projectRoot, file)}: ${name}`),
    );
    expect(undeclared).toEqual([]);
  });
});
