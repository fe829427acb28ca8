import { DefaultLogger, type LogEntry, type Logger, type LogLevel } from '@temporalio/worker';
import { redactSecrets } from './redact.js';

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => process.stdout.write(line + '\n');

function toJsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Formats one log entry as a JSON line: `{"time", "level", "msg", ...meta}`, secrets masked. */
export function formatLogEntry(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const line = JSON.stringify({ time, level: entry.level, msg: entry.message, ...entry.meta }, toJsonSafe);
  return redactSecrets(line);
}

/** Structured JSON logger used by the Temporal runtime, the worker and every service of ours. */
export function createJsonLogger(level: LogLevel, sink: LogSink = stdoutSink): Logger {
  return new DefaultLogger(level, (entry) => sink(formatLogEntry(entry)));
}
