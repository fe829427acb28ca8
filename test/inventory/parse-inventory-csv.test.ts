import { describe, expect, it } from 'vitest';
import { parseInventoryCsv } from '../../src/inventory/parse-inventory-csv.js';

const HEADER = 'hostname,address,customer,stage,os';
const csv = (...lines: string[]) => lines.join('\n') + '\n';

describe('parseInventoryCsv', () => {
  it('reads hosts, with an optional port, a case-insensitive header and columns it does not know', () => {
    const result = parseInventoryCsv(
      csv(
        'Hostname,ADDRESS,Customer,Stage,OS,Port,Notes',
        'vm-1,10.0.0.1,abc,p1,linux,,rack 3',
        'vm-2,web-2.example.com,abc,p1,Linux,2222,',
        'vm-3,10.0.0.3,def,p2, LINUX ,,',
      ),
    );
    expect(result).toEqual({
      hosts: [
        { hostname: 'vm-1', address: '10.0.0.1', customer: 'abc', stage: 'p1', os: 'linux' },
        { hostname: 'vm-2', address: 'web-2.example.com', customer: 'abc', stage: 'p1', os: 'linux', port: 2222 },
        { hostname: 'vm-3', address: '10.0.0.3', customer: 'def', stage: 'p2', os: 'linux' },
      ],
      problems: [],
      notes: [],
    });
  });

  it('strips a byte order mark, reads CRLF, skips comment and blank lines, and counts them in line numbers', () => {
    const text = [
      '\uFEFF# exported from the CMDB',
      '',
      HEADER,
      '   ',
      'vm-1,10.0.0.1,abc,p1,linux',
      '  # vm-9 retired',
      '',
      'vm_2,10.0.0.2,abc,p1,linux',
      '',
    ].join('\r\n');
    const { hosts, problems } = parseInventoryCsv(text);
    expect(hosts.map((h) => h.hostname)).toEqual(['vm-1']);
    expect(problems).toEqual([{ line: 8, message: 'hostname must be a host name like vm-17 or web-1.example.com' }]);
  });

  it('reads quoted fields with commas, doubled quotes, surrounding spaces and line breaks', () => {
    const { hosts, problems } = parseInventoryCsv(
      [
        `${HEADER},notes`,
        '"vm-1", "10.0.0.1" ,abc,p1,"linux","rack 3, row ""B"""',
        'vm-2,10.0.0.2,abc,p1,linux,"moved in March,',
        '# not a comment: inside the quoted notes',
        'see ticket 42"',
        'vm-3,10.0.0.3,abc,p1,windows,"two\r\nlines"',
        'vm-4,10.0.0.4,abc,p1,windows,',
      ].join('\r\n'),
    );
    expect(hosts.map((h) => [h.hostname, h.address])).toEqual([
      ['vm-1', '10.0.0.1'],
      ['vm-2', '10.0.0.2'],
    ]);
    expect(problems).toEqual([
      { line: 6, message: 'os only linux hosts are supported' },
      { line: 8, message: 'os only linux hosts are supported' },
    ]);
  });

  it('names every field a row gets wrong, on the line it is on', () => {
    const { hosts, problems } = parseInventoryCsv(
      csv(
        `${HEADER},port`,
        'vm-1,10.0.0.1,ABC,p1,linux,',
        'vm-2,not an address,abc,p-1,linux,',
        'vm-3,10.0.0.3,abc,p1,linux,70000',
        'vm-4,10.0.0.4,abc,p1,linux,22,extra',
        'vm-5,10.0.0.5,abc,p1,linux,22,,,',
        'vm-6,10.0.0.6',
      ),
    );
    expect(hosts.map((h) => h.hostname)).toEqual(['vm-5']);
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 7]);
    expect(problems[0]!.message).toMatch(/^customer must be 1-32 lowercase letters/);
    expect(problems[1]!.message).toMatch(/^address must be a host name or an IP address; stage must be 1-16/);
    expect(problems[2]!.message).toMatch(/^port /);
    expect(problems[3]!.message).toBe('the row has 7 fields; the header names 6');
    expect(problems[4]!.message).toMatch(/^customer .*; stage .*; os only linux hosts are supported$/);
  });

  it('says when the inventory is empty, lists no hosts, or its header lacks columns', () => {
    expect(parseInventoryCsv('')).toEqual({
      hosts: [],
      problems: [{ line: 1, message: 'the inventory is empty' }],
      notes: [],
    });
    expect(parseInventoryCsv('\uFEFF# nothing yet\n\n').problems).toEqual([
      { line: 1, message: 'the inventory is empty' },
    ]);
    expect(parseInventoryCsv(csv('# hosts', HEADER, '', '# none yet')).problems).toEqual([
      { line: 3, message: 'the inventory lists no hosts' },
    ]);
    expect(parseInventoryCsv(csv('# hosts', 'host,address,customer', 'vm-1,10.0.0.1,abc')).problems).toEqual([
      { line: 2, message: 'the header lacks column(s) hostname, stage, os' },
    ]);
    expect(parseInventoryCsv(csv(`${HEADER},Address`, 'vm-1,10.0.0.1,abc,p1,linux,10.0.0.2')).problems).toEqual([
      { line: 1, message: 'the header names column(s) address more than once' },
    ]);
  });

  it('reports a malformed CSV line with its line number and reads the rows after it', () => {
    const { hosts, problems } = parseInventoryCsv(
      csv(
        HEADER,
        'vm-1,10.0.0.1,abc,p1,linux',
        'vm-2,10.0.0."2,abc,p1,linux',
        'vm-3,"10.0.0.3"x,abc,p1,linux',
        'vm-4,10.0.0.4,abc,p1,linux',
        'vm-5,"10.0.0.5,abc,p1,linux',
      ),
    );
    expect(hosts.map((h) => h.hostname)).toEqual(['vm-1', 'vm-4']);
    expect(problems).toEqual([
      {
        line: 3,
        message: 'a quote inside an unquoted field; quote the whole field and double the quote inside it',
      },
      { line: 4, message: 'text follows a closing quote before the next comma' },
      { line: 6, message: 'a quoted field opened on this line is never closed' },
    ]);
  });

  it('says where a quote that swallowed later lines opened and closed, and reads on from the next line', () => {
    const { hosts, problems } = parseInventoryCsv(
      csv(HEADER, 'vm-1,"10.0.0.1,abc,p1,linux', 'vm-2,10.0.0.2,abc,p1,linux', 'vm-3,10.0.0."3,abc,p1,linux'),
    );
    expect(problems).toEqual([
      {
        line: 2,
        message: 'a quoted field opened on this line closes on line 4 with more text after the closing quote',
      },
      { line: 4, message: 'a quote inside an unquoted field; quote the whole field and double the quote inside it' },
    ]);
    expect(hosts.map((h) => h.hostname)).toEqual(['vm-2']);
  });

  it('refuses an inventory whose header cannot be read', () => {
    expect(parseInventoryCsv(csv('# hosts', 'hostname,"address,customer,stage,os')).problems).toEqual([
      { line: 2, message: 'the header cannot be read: a quoted field opened on this line is never closed' },
    ]);
  });

  it('enrolls an exactly repeated host once and notes each repeat', () => {
    const { hosts, problems, notes } = parseInventoryCsv(
      csv(
        `${HEADER},port,notes`,
        'vm-1,10.0.0.1,abc,p1,linux,22,first',
        'vm-2,10.0.0.2,abc,p1,linux,,',
        '# the second export again',
        'VM-1, 10.0.0.1 ,abc,p1,"Linux",22,second',
        'vm-1,10.0.0.1,abc,p1,linux,22,',
        'vm-1,10.0.0.1,def,p1,linux,22,another environment: another host',
      ),
    );
    expect(problems).toEqual([]);
    expect(hosts).toEqual([
      { hostname: 'vm-1', address: '10.0.0.1', customer: 'abc', stage: 'p1', os: 'linux', port: 22 },
      { hostname: 'vm-2', address: '10.0.0.2', customer: 'abc', stage: 'p1', os: 'linux' },
      { hostname: 'vm-1', address: '10.0.0.1', customer: 'def', stage: 'p1', os: 'linux', port: 22 },
    ]);
    expect(notes).toEqual([
      { line: 5, message: 'VM-1 repeats line 2 exactly; enrolled once' },
      { line: 6, message: 'vm-1 repeats line 2 exactly; enrolled once' },
    ]);
  });

  it('refuses every row of a host whose listings disagree, naming both lines and the fields', () => {
    const { hosts, problems, notes } = parseInventoryCsv(
      csv(
        `${HEADER},port`,
        'vm-1,10.0.0.1,abc,p1,linux,',
        'vm-2,10.0.0.2,abc,p1,linux,',
        'vm-1,10.0.0.9,abc,p1,linux,2222',
        'vm-2,10.0.0.2,abc,p1,linux,',
      ),
    );
    expect(hosts.map((h) => h.hostname)).toEqual(['vm-2']);
    expect(notes).toEqual([{ line: 5, message: 'vm-2 repeats line 3 exactly; enrolled once' }]);
    expect(problems).toEqual([
      {
        line: 2,
        message:
          'vm-1 is listed for abc-p1 with different values: address 10.0.0.1 here, 10.0.0.9 on line 4; port (none) here, 2222 on line 4; none of its rows (lines 2, 4) is enrolled',
      },
      {
        line: 4,
        message:
          'vm-1 is listed for abc-p1 with different values: address 10.0.0.9 here, 10.0.0.1 on line 2; port 2222 here, (none) on line 2; none of its rows (lines 2, 4) is enrolled',
      },
    ]);
  });

  it('gives each bad row the physical line it starts on, whatever precedes it', () => {
    // Every data row is bad, so every row's line comes back as a problem; the file mixes all that moves lines.
    const lines = ['# inventory', HEADER];
    const expected: number[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) lines.push('');
      if (i % 5 === 0) lines.push(`# batch ${i}`);
      if (i % 7 === 0) lines.push('   ');
      expected.push(lines.length + 1);
      if (i % 4 === 0) lines.push(`bad_${i},10.0.0.1,abc,p1,linux,"note`, `# continued`, `over three lines"`);
      else lines.push(`bad_${i},10.0.0.1,abc,p1,linux`);
    }
    for (const eol of ['\n', '\r\n']) {
      const { problems } = parseInventoryCsv(lines.join(eol) + eol);
      expect(problems.map((p) => p.line)).toEqual(expected);
    }
  });

  it('reads a 12,000-host inventory quickly and finds the one bad row at the end', () => {
    const rows = [HEADER];
    for (let i = 1; i <= 12_000; i++) rows.push(`vm-${i},10.0.${Math.floor(i / 250)}.${i % 250},c${i % 500},p1,linux`);
    rows.push('vm-12001,10.0.0.1,c1,p1,solaris');
    const started = performance.now();
    const { hosts, problems, notes } = parseInventoryCsv(csv(...rows));
    const elapsed = performance.now() - started;
    expect(hosts).toHaveLength(12_000);
    expect(notes).toEqual([]);
    expect(problems).toEqual([{ line: 12_002, message: 'os only linux hosts are supported' }]);
    // Well under a second on a laptop; generous for a loaded 2-core CI machine.
    expect(elapsed).toBeLessThan(3_000);
  });
});
