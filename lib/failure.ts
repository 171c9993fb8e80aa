import { EXIT, TrackflowError, classOfCode, type ExitCode } from './domain/errors';

/** What a command prints and exits with when an error reaches it. */
export interface Failure {
  exitCode: ExitCode;
  /** One line, without the command's name in front. */
  message: string;
  /** A usage error: the CLI adds where to find the usage. */
  usage: boolean;
}

/** An error message on one line: drivers put host lists and causes on lines of their own. */
export function oneLine(message: string, max = 300): string {
  const flat = message.replace(/\s*\n\s*/g, '; ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST']);
const UNAVAILABLE_NAMES = new Set([
  'NoHostAvailableError',
  'OperationTimedOutError',
  'KafkaJSConnectionError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'ServiceUnavailable',
]);
/** gRPC UNAVAILABLE: the Temporal server did not answer. */
const GRPC_UNAVAILABLE = 14;

type Chain = { code?: unknown; name?: string; cause?: unknown; originalError?: unknown } | undefined;

/** True when the error means a server could not be reached (exit 3), rather than a wrong answer. */
export function isUnavailable(err: unknown): boolean {
  for (let e = err as Chain, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (e.code === GRPC_UNAVAILABLE && e.name === 'ServiceError') return true;
    if (e.name && UNAVAILABLE_NAMES.has(e.name)) return true;
    e = (e.cause ?? e.originalError) as Chain;
  }
  return false;
}

/** A schema that was never migrated: a setup problem to name plainly, not a stack trace. */
export function missingSchema(err: unknown): string | undefined {
  const e = err as { code?: string; message?: string } | undefined;
  if (e?.code === 'ER_NO_SUCH_TABLE' || e?.code === 'ER_BAD_DB_ERROR') return `MySQL: ${e.message} (run npm run migrate)`;
  if (e?.message && /keyspace \S+ does not exist|unconfigured table/i.test(e.message)) return `Cassandra: ${e.message} (run npm run migrate)`;
  return undefined;
}

/** Which service an unreachable error came from, by the driver's error names. */
function serviceOf(err: unknown): string {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''}`;
  if (/KafkaJS/.test(text)) return 'Kafka';
  if (/NoHostAvailable|OperationTimedOut|All host\(s\) tried/.test(text)) return 'Cassandra';
  if (/ServiceError|grpc|Temporal/i.test(text)) return 'Temporal';
  if (/PROTOCOL_CONNECTION_LOST|ER_|mysql/i.test(text) || (err as { errno?: number })?.errno !== undefined) return 'MySQL';
  return 'a service';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Temporal's ApplicationFailure, by name: the CLI maps failures without loading the Temporal SDK. */
function isApplicationFailure(err: unknown): err is Error & { type?: string | null } {
  return err instanceof Error && err.name === 'ApplicationFailure';
}

/** A failed workflow run: its cause says what failed; a cause of our taxonomy keeps its exit code. */
function workflowFailure(err: Error & { cause?: unknown }): Failure {
  const cause = err.cause;
  const message = cause instanceof Error ? cause.message : err.message;
  const kind = isApplicationFailure(cause) ? classOfCode(cause.type) : undefined;
  return { exitCode: kind?.exitCode ?? EXIT.failed, message: oneLine(message), usage: false };
}

/**
 * The one mapping from an error to an exit code and a one-line message, for every command: an error of the
 * taxonomy (lib/domain/errors.ts) by its class, a failed Temporal run or an ApplicationFailure by its type,
 * an unreachable server (exit 3), a schema never migrated (exit 1), anything else exit 1.
 */
export function describeFailure(err: unknown): Failure {
  if (err instanceof TrackflowError) {
    return { exitCode: err.exitCode, message: oneLine(err.message), usage: err.exitCode === EXIT.usage };
  }
  const name = (err as Error | undefined)?.name;
  if (name === 'WorkflowFailedError') return workflowFailure(err as Error);
  if (isApplicationFailure(err)) {
    return { exitCode: classOfCode(err.type)?.exitCode ?? EXIT.failed, message: oneLine(err.message), usage: false };
  }
  const schema = missingSchema(err);
  if (schema) return { exitCode: EXIT.failed, message: `schema missing: ${oneLine(schema)}`, usage: false };
  if (isUnavailable(err)) {
    // Drivers append an inspected inner error (stack frames, fields) after the first line: the first line says it.
    const first = messageOf(err).split('\n', 1)[0] ?? '';
    return { exitCode: EXIT.unavailable, message: `service unavailable: ${serviceOf(err)}: ${oneLine(first)}`, usage: false };
  }
  return { exitCode: EXIT.failed, message: oneLine(messageOf(err)), usage: false };
}

/** The stack and cause of an error, for --verbose. */
export function failureDetail(err: unknown): string {
  const e = err as { stack?: string; cause?: unknown } | undefined;
  const parts = [e?.stack ?? String(err)];
  if (e?.cause) parts.push(`cause: ${(e.cause as Error).stack ?? String(e.cause)}`);
  return parts.join('\n');
}
