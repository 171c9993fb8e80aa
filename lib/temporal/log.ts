import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import pino from 'pino';
import { logLevel } from '../config';
import { DOCUMENTED_KEYS } from '../envSchema';

type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * Fields pino replaces with "[redacted]" wherever a log call puts them, up to three levels deep: credential
 * fields of the config objects (Credential, sasl, admin) and every *_PASSWORD variable of the schema.
 */
const SECRET_FIELDS = ['password', 'adminPassword', 'secret', 'token', ...DOCUMENTED_KEYS.filter((k) => /PASSWORD|SECRET/.test(k))];
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

/** Errors keep name, message and stack (JSON.stringify would drop them); bigints become strings. */
function serialisable(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value instanceof Error) out[key] = { name: value.name, message: value.message, stack: value.stack };
    else if (typeof value === 'bigint') out[key] = value.toString();
    else out[key] = value;
  }
  return out;
}

/** The process's pino logger: one JSON object per line, `ts`, `level` as a word, secrets redacted. */
export function createPino(minLevel: Level, write: (line: string) => void): pino.Logger {
  return pino(
    {
      level: minLevel.toLowerCase(),
      // The base fields go into each entry with its metadata instead, so a key in both appears once.
      base: null,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => write(line.trimEnd()) },
  );
}

/**
 * Temporal's DefaultLogger, writing through pino: used as the Runtime logger, so SDK, workflow and activity
 * logs share one JSON format and the same redaction.
 */
export class JsonLogger extends DefaultLogger {
  readonly pino: pino.Logger;

  constructor(
    base: Record<string, unknown> = {},
    minLevel: Level = logLevel().toUpperCase() as Level,
    write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {
    const logger = createPino(minLevel, write);
    super(minLevel as LogLevel, (entry: LogEntry) => {
      const level = entry.level.toLowerCase() as Lowercase<Level>;
      (logger[level] ?? logger.info).call(logger, { ...base, ...serialisable(entry.meta) }, entry.message);
    });
    this.pino = logger;
  }
}
