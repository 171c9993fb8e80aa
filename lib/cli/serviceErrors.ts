import { logLevel, type logCreator } from 'kafkajs';
import { isUnavailable, missingSchema } from '../reconcile/lag';
import { EXIT } from './command';
import { verbose } from '../config';

/** Set by `trackflow --verbose`: failures add their stack, and client libraries may log. */
export { verbose };

/** An error message on one line: drivers put host lists and causes on lines of their own. */
export function oneLine(message: string, max = 300): string {
  const flat = message.replace(/\s*\n\s*/g, '; ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

function detail(err: unknown): string {
  if (!verbose()) return '';
  const e = err as { stack?: string; cause?: unknown };
  const parts = [e?.stack ?? String(err)];
  if (e?.cause) parts.push(`cause: ${(e.cause as Error).stack ?? String(e.cause)}`);
  return parts.join('\n') + '\n';
}

/** Which service an unreachable error came from, by the driver's error names. */
function serviceOf(err: unknown): string {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''}`;
  if (/KafkaJS/.test(text)) return 'Kafka';
  if (/NoHostAvailable|OperationTimedOut|All host\(s\) tried/.test(text)) return 'Cassandra';
  if (/PROTOCOL_CONNECTION_LOST|ER_|mysql/i.test(text) || (err as { errno?: number })?.errno !== undefined) return 'MySQL';
  return 'a service';
}

/**
 * The one error path of every command: a schema that was never migrated (1), a server that cannot be
 * reached (3), anything else (1), each as one line on stderr (with the stack under --verbose).
 */
export function serviceErrorExit(command: string, err: unknown): number {
  const schema = missingSchema(err);
  if (schema) {
    process.stderr.write(`trackflow ${command}: schema missing: ${oneLine(schema)}\n${detail(err)}`);
    return EXIT.failed;
  }
  if (isUnavailable(err)) {
    // Drivers append an inspected inner error (stack frames, fields) after the first line: the first line says it.
    const first = String((err as Error).message ?? err).split('\n', 1)[0] ?? '';
    process.stderr.write(`trackflow ${command}: service unavailable: ${serviceOf(err)}: ${oneLine(first)}\n${detail(err)}`);
    return EXIT.unavailable;
  }
  process.stderr.write(`trackflow ${command}: ${oneLine(err instanceof Error ? err.message : String(err))}\n${detail(err)}`);
  return EXIT.failed;
}

/** kafkajs logs its retries as JSON lines on stdout; a command reports the outcome itself, once. */
export const quietKafkaLog: logCreator = () => (entry) => {
  if (verbose() && entry.level <= logLevel.WARN) process.stderr.write(`kafkajs ${entry.namespace}: ${entry.log.message}\n`);
};
