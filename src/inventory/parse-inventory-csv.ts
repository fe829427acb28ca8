import { fleetHostSchema, type FleetHost } from '../shared/fleet.js';
import { readCsvRecords, type CsvRecord } from './read-csv-records.js';
import { environmentIdOf } from '../shared/environment-id.js';

/** A row that cannot be enrolled, with the physical line it starts on. */
export interface InventoryProblem {
  line: number;
  message: string;
}

/** Something about a row that changed nothing that matters (an exact repeat), with its line. */
export type InventoryNote = InventoryProblem;

export interface ParsedInventory {
  /** The valid hosts, each once, in the order the inventory first lists them. */
  hosts: FleetHost[];
  /** Every row that is not among `hosts` for a reason the user must see, sorted by line. */
  problems: InventoryProblem[];
  notes: InventoryNote[];
}

const REQUIRED = ['hostname', 'address', 'customer', 'stage', 'os'] as const;
const COLUMNS: readonly string[] = [...REQUIRED, 'port'];

interface Row {
  line: number;
  host: FleetHost;
}

/** Fields two rows of the same host may not disagree on; names and addresses are DNS-like, so case-blind. */
const COMPARED: { field: keyof FleetHost; same: (a: FleetHost, b: FleetHost) => boolean }[] = [
  { field: 'hostname', same: (a, b) => a.hostname.toLowerCase() === b.hostname.toLowerCase() },
  { field: 'address', same: (a, b) => a.address.toLowerCase() === b.address.toLowerCase() },
  { field: 'os', same: (a, b) => a.os === b.os },
  { field: 'port', same: (a, b) => a.port === b.port },
];

/** Lines of the other listings named in a conflict's message: a host can be pasted 12,000 times. */
const LISTED_LINES = 5;

const shown = (host: FleetHost, field: keyof FleetHost) => (host[field] === undefined ? '(none)' : String(host[field]));

function toHost(header: string[], record: CsvRecord): { host: FleetHost } | { problem: string } {
  const extra = record.fields.slice(header.length).filter((f) => f !== '');
  if (extra.length > 0)
    return { problem: `the row has ${record.fields.length} fields; the header names ${header.length}` };
  const row = Object.fromEntries(header.map((h, j) => [h, record.fields[j] ?? '']));
  const parsed = fleetHostSchema.safeParse({
    hostname: row.hostname,
    address: row.address,
    customer: row.customer,
    stage: row.stage,
    os: row.os?.toLowerCase(),
    ...(row.port ? { port: Number(row.port) } : {}),
  });
  if (!parsed.success)
    return { problem: parsed.error.issues.map((e) => `${e.path.join('.')} ${e.message}`).join('; ') };
  return { host: parsed.data };
}

/**
 * Reads an inventory CSV with a header row (hostname, address, customer, stage, os, and optionally
 * port; case-insensitive, other columns ignored). A host listed more than once for the same
 * environment is enrolled once if every listing agrees; if they disagree, none of them is enrolled,
 * since which one is right is the user's call. Each bad row is a problem with its line number; the
 * caller decides whether the valid hosts may start without them.
 */
export function parseInventoryCsv(text: string): ParsedInventory {
  const { records, malformed } = readCsvRecords(text);
  const first = records[0];
  if (malformed[0] && (!first || malformed[0].line < first.line)) {
    const m = malformed[0];
    return { hosts: [], problems: [{ line: m.line, message: `the header cannot be read: ${m.message}` }], notes: [] };
  }
  if (!first) return { hosts: [], problems: [{ line: 1, message: 'the inventory is empty' }], notes: [] };

  const header = first.fields.map((h) => h.toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const twice = COLUMNS.filter((c) => header.indexOf(c) !== header.lastIndexOf(c));
  const headerFaults = [
    ...(missing.length > 0 ? [`the header lacks column(s) ${missing.join(', ')}`] : []),
    ...(twice.length > 0 ? [`the header names column(s) ${twice.join(', ')} more than once`] : []),
  ];
  if (headerFaults.length > 0)
    return { hosts: [], problems: [{ line: first.line, message: headerFaults.join('; ') }], notes: [] };

  const problems: InventoryProblem[] = [...malformed];
  const notes: InventoryNote[] = [];
  /** Rows per environment and lower-cased hostname, in file order. */
  const listings = new Map<string, Row[]>();
  for (const record of records.slice(1)) {
    const result = toHost(header, record);
    if ('problem' in result) {
      problems.push({ line: record.line, message: result.problem });
      continue;
    }
    const key = `${environmentIdOf(result.host)}/${result.host.hostname.toLowerCase()}`;
    const rows = listings.get(key);
    if (rows) rows.push({ line: record.line, host: result.host });
    else listings.set(key, [{ line: record.line, host: result.host }]);
  }

  const hosts: FleetHost[] = [];
  for (const rows of listings.values()) {
    const [kept, ...repeats] = rows as [Row, ...Row[]];
    const differing = (a: Row, b: Row) => COMPARED.filter((c) => !c.same(a.host, b.host)).map((c) => c.field);
    if (repeats.every((r) => differing(kept, r).length === 0)) {
      hosts.push(kept.host);
      for (const r of repeats)
        notes.push({ line: r.line, message: `${r.host.hostname} repeats line ${kept.line} exactly; enrolled once` });
      continue;
    }
    const lineList =
      rows.length <= LISTED_LINES
        ? rows.map((r) => r.line).join(', ')
        : `${rows
            .slice(0, LISTED_LINES)
            .map((r) => r.line)
            .join(', ')} and ${rows.length - LISTED_LINES} more`;
    const firstOdd = repeats.find((r) => differing(kept, r).length > 0)!;
    for (const row of rows) {
      // Agreeing is an equivalence: a row that agrees with the first disagrees with what the first disagrees with.
      const other = differing(row, kept).length > 0 ? kept : firstOdd;
      const fields = differing(row, other)
        .map((f) => `${f} ${shown(row.host, f)} here, ${shown(other.host, f)} on line ${other.line}`)
        .join('; ');
      problems.push({
        line: row.line,
        message: `${row.host.hostname} is listed for ${environmentIdOf(row.host)} with different values: ${fields}; none of its rows (lines ${lineList}) is enrolled`,
      });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  notes.sort((a, b) => a.line - b.line);
  if (records.length === 1 && problems.length === 0)
    problems.push({ line: first.line + 1, message: 'the inventory lists no hosts' });
  return { hosts, problems, notes };
}
