// Rewrites README's configuration tables from the declarations in src/config/configuration.ts:
// `npm run docs:config`. test/foundation/config-docs.test.ts fails when README differs from this.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { configuration } from '../src/config/configuration.js';
import { projectRoot } from '../src/config/project-root.js';
import { CONFIG_TABLES, variablesOf, type ConfigTable, type Variable } from '../src/config/variable.js';

export const README = path.join(projectRoot, 'README.md');

export interface ConfigRow {
  /** The variable's name (a secret's row shows `NAME[_FILE]`). */
  variable: string;
  cells: [variable: string, defaultValue: string, meaning: string];
}

export function configRows(table: ConfigTable): ConfigRow[] {
  return variablesOf(configuration)
    .filter((v) => v.doc.table === table)
    .map((v: Variable<unknown>) => ({
      variable: v.name,
      cells: [`\`${v.name}${v.secret ? '[_FILE]' : ''}\``, v.doc.default, v.doc.meaning],
    }));
}

const markers = (table: ConfigTable) => ({ start: `<!-- config:${table} -->`, end: `<!-- /config:${table} -->` });

/** The table as prettier lays it out (the README is kept prettier-formatted). */
export async function renderTable(table: ConfigTable): Promise<string> {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...configRows(table).map((row) => `| ${row.cells.map(cell).join(' | ')} |`),
  ];
  const options = await prettier.resolveConfig(README);
  return (await prettier.format(lines.join('\n'), { ...options, parser: 'markdown' })).trimEnd();
}

/** The text between a table's markers, without the surrounding blank lines. */
export function tableIn(readme: string, table: ConfigTable): string {
  const { start, end } = markers(table);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} region`);
  return readme.slice(from + start.length, to).trim();
}

/** README with every configuration table rewritten; nothing outside the markers changes. */
export async function withConfigTables(readme: string): Promise<string> {
  let text = readme;
  for (const table of CONFIG_TABLES) {
    const { start, end } = markers(table);
    tableIn(text, table);
    const from = text.indexOf(start) + start.length;
    const to = text.indexOf(end);
    text = `${text.slice(0, from)}\n\n${await renderTable(table)}\n\n${text.slice(to)}`;
  }
  return text;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const before = readFileSync(README, 'utf8');
  const after = await withConfigTables(before);
  if (after === before) {
    console.log('README.md: configuration tables are up to date');
  } else {
    writeFileSync(README, after);
    console.log('README.md: configuration tables rewritten');
  }
}
