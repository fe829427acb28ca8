import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { redactSecrets } from '../../src/observability/redact.js';

const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');

describe('structured JSON logs', () => {
  it('writes one JSON object per line with level, message and metadata', () => {
    const lines: string[] = [];
    const logger = createJsonLogger('INFO', (line) => lines.push(line));
    logger.debug('not shown');
    logger.info('Worker started', { taskQueue: 'q', err: new Error('boom') });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'INFO', msg: 'Worker started', taskQueue: 'q', err: { message: 'boom' } });
    expect(new Date(entry.time as string).getTime()).toBeGreaterThan(0);
  });

  it('masks Dynatrace token secrets and Authorization values even if code passes them by mistake', () => {
    const publicId = `dt0c01.${alnum(24)}`;
    const token = `${publicId}.${alnum(64)}`;
    const lines: string[] = [];
    createJsonLogger('INFO', (line) => lines.push(line)).warn(`request failed with ${token}`, {
      header: `Api-Token ${token}`,
    });
    expect(lines[0]).not.toContain(token);
    expect(lines[0]).toContain(`${publicId}.***`);
    expect(redactSecrets('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer ***');
  });
});
