import { fleetHostSchema, type FleetHost } from '../shared/fleet.js';

export interface InventoryProblem {
  line: number;
  message: string;
}

/** RFC 4180 fields: commas, quotes doubled inside quoted fields. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

const REQUIRED = ['hostname', 'address', 'customer', 'stage', 'os'] as const;

/**
 * Reads an inventory CSV with a header row (hostname, address, customer, stage, os, and optionally
 * port). Every bad row is reported with its line number; nothing is accepted while any row is bad.
 */
export function parseInventoryCsv(text: string): { hosts: FleetHost[]; problems: InventoryProblem[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const problems: InventoryProblem[] = [];
  const headerIndex = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (headerIndex < 0) return { hosts: [], problems: [{ line: 1, message: 'the inventory is empty' }] };
  const header = splitCsvLine(lines[headerIndex]!).map((h) => h.toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    return {
      hosts: [],
      problems: [{ line: headerIndex + 1, message: `the header lacks column(s) ${missing.join(', ')}` }],
    };
  }
  const hosts: FleetHost[] = [];
  const seen = new Map<string, number>();
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '' || raw.trim().startsWith('#')) continue;
    const fields = splitCsvLine(raw);
    const row = Object.fromEntries(header.map((h, j) => [h, fields[j] ?? '']));
    const parsed = fleetHostSchema.safeParse({
      hostname: row.hostname,
      address: row.address,
      customer: row.customer,
      stage: row.stage,
      os: row.os?.toLowerCase(),
      ...(row.port ? { port: Number(row.port) } : {}),
    });
    if (!parsed.success) {
      problems.push({
        line: i + 1,
        message: parsed.error.issues.map((e) => `${e.path.join('.')} ${e.message}`).join('; '),
      });
      continue;
    }
    const key = `${parsed.data.customer}-${parsed.data.stage}/${parsed.data.hostname.toLowerCase()}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({
        line: i + 1,
        message: `${parsed.data.hostname} is listed twice for ${parsed.data.customer}-${parsed.data.stage} (line ${earlier} too)`,
      });
      continue;
    }
    seen.set(key, i + 1);
    hosts.push(parsed.data);
  }
  if (hosts.length === 0 && problems.length === 0)
    problems.push({ line: headerIndex + 2, message: 'the inventory lists no hosts' });
  return { hosts, problems };
}
