import { CsvError, parse } from 'csv-parse/sync';

/** One CSV record and the physical line (1-based) it starts on, so a person can find it in the file. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A line the CSV reader could not make a record of (an unclosed quote, text after a closing quote, …). */
export interface MalformedCsvLine {
  line: number;
  message: string;
}

/** Bytes; no inventory row comes near this, and an unclosed quote stops swallowing the file here. */
const MAX_RECORD_BYTES = 65_536;

const isSkippedLine = (line: string) => {
  const t = line.trim();
  return t === '' || t.startsWith('#');
};

/** What is wrong with the record starting on `line`, read in a pass that began after line `passStart`. */
function explain(err: CsvError, line: number, passStart: number): string {
  // csv-parse counts lines from where its pass began; where the fault showed is worth saying if it is further down.
  const foundOn = passStart + (typeof err.lines === 'number' ? err.lines : 0);
  const where = foundOn > line ? ` (noticed on line ${foundOn})` : '';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field opened on this line is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return `this row runs past ${MAX_RECORD_BYTES / 1024} KiB (a quoted field that is never closed?)`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return foundOn > line
        ? `a quoted field opened on this line closes on line ${foundOn} with more text after the closing quote`
        : 'text follows a closing quote before the next comma';
    case 'INVALID_OPENING_QUOTE':
      return `a quote inside an unquoted field${where}; quote the whole field and double the quote inside it`;
    default:
      return `${err.message.replace(/ at line \d+.*$/, '')}${where}`;
  }
}

/**
 * Reads CSV text into records with the physical line each starts on. Blank lines and lines starting
 * with `#` are skipped; fields are trimmed (inside quotes too: no inventory value has edge spaces).
 * A record the CSV grammar rejects is reported and reading goes on from the line after its start,
 * so one stray quote costs one row, not the rest of the file.
 */
export function readCsvRecords(text: string): { records: CsvRecord[]; malformed: MalformedCsvLine[] } {
  // csv-parse counts a CRLF inside a quoted field as two lines; with LF only its count is the physical one.
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = normalized.split('\n');
  // Encoded once: each pass after a malformed record parses a view of the rest, not a copy of it.
  const data = Buffer.from(normalized);
  const lineStarts = [0];
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) lineStarts.push(i + 1);

  const records: CsvRecord[] = [];
  const malformed: MalformedCsvLine[] = [];
  /** The last physical line (1-based) consumed so far. */
  let consumed = 0;
  const nextStart = (upTo: number) => {
    let line = consumed + 1;
    while (line < upTo && isSkippedLine(lines[line - 1]!)) line++;
    return line;
  };
  while (consumed < lines.length) {
    const passStart = consumed;
    try {
      parse(data.subarray(lineStarts[passStart]), {
        comment: '#',
        comment_no_infix: true,
        skip_empty_lines: true,
        trim: true,
        relax_column_count: true,
        record_delimiter: '\n',
        max_record_size: MAX_RECORD_BYTES,
        on_record: (fields: string[], context) => {
          const end = passStart + context.lines;
          records.push({ line: nextStart(end), fields: fields.map((f) => f.trim()) });
          consumed = end;
          return null;
        },
      });
      break;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      const start = nextStart(lines.length);
      malformed.push({ line: start, message: explain(err, start, passStart) });
      consumed = start;
    }
  }
  return { records, malformed };
}
