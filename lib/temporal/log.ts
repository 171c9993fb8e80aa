import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const ORDER: Record<Level, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

function serialisable(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value instanceof Error) out[key] = { name: value.name, message: value.message, stack: value.stack };
    else if (typeof value === 'bigint') out[key] = value.toString();
    else out[key] = value;
  }
  return out;
}

/**
 * One JSON object per line on stdout, so log shippers can parse worker output without regexes.
 * Used as the Temporal Runtime logger, so SDK, workflow and activity logs share the format.
 */
export class JsonLogger implements Logger {
  constructor(
    private readonly base: Record<string, unknown> = {},
    private readonly minLevel: Level = (process.env.TRACKFLOW_LOG_LEVEL?.toUpperCase() as Level | undefined) ?? 'INFO',
    private readonly write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if ((ORDER[level as Level] ?? ORDER.INFO) < (ORDER[this.minLevel] ?? ORDER.INFO)) return;
    let line: string;
    const entry = { ts: new Date().toISOString(), level: level.toLowerCase(), msg: message, ...this.base, ...serialisable(meta) };
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ ts: entry.ts, level: entry.level, msg: message, ...this.base, metaUnserialisable: true });
    }
    this.write(line);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
