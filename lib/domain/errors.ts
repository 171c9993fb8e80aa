/**
 * The error taxonomy: every failure trackflow raises on purpose is one of these classes. Each class has
 * - a code: its class name, which is also the failure type Temporal records when an activity throws it
 *   (Temporal names a thrown error after its constructor) and which retry policies match on;
 * - whether retrying can help (a malformed export stays malformed; a server that was down may be back);
 * - the exit code a command ends with when the error reaches it.
 *
 * Workflows import this module (workflows/options.ts derives the non-retryable types from it), so it stays
 * pure: no Node built-ins, no other imports.
 */

/** Exit codes of every command and script. */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem: a failed check, a failed run, a missing row, a timeout. */
  failed: 1,
  /** Bad usage: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** A service could not be reached. */
  unavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class TrackflowError extends Error {
  static readonly code: string = 'TrackflowError';
  static readonly retryable: boolean = true;
  static readonly exitCode: ExitCode = EXIT.failed;

  readonly code: string;
  readonly retryable: boolean;
  readonly exitCode: ExitCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const kind = new.target as typeof TrackflowError;
    this.name = kind.code;
    this.code = kind.code;
    this.retryable = kind.retryable;
    this.exitCode = kind.exitCode;
  }

  /** The same fields an ApplicationFailure has, so callers can read either the same way. */
  get type(): string {
    return this.code;
  }

  get nonRetryable(): boolean {
    return !this.retryable;
  }
}

// --- Usage and setup -------------------------------------------------------------------------------------

/** Bad usage: an unknown option, a missing argument, a value out of range, a file given that does not exist. */
export class UsageError extends TrackflowError {
  static override readonly code: string = 'UsageError';
  static override readonly retryable: boolean = false;
  static override readonly exitCode: ExitCode = EXIT.usage;
}

/** The environment's configuration is invalid (a missing or malformed TRACKFLOW_* variable). */
export class ConfigError extends TrackflowError {
  static override readonly code: string = 'ConfigError';
  static override readonly retryable: boolean = false;
}

/** A server could not be reached; a later attempt may find it back. */
export class ServiceUnavailable extends TrackflowError {
  static override readonly code: string = 'ServiceUnavailable';
  static override readonly exitCode: ExitCode = EXIT.unavailable;
}

/** Cassandra's nodes still disagree on the schema after the wait: a node lags and needs a restart (docs/deploy.md). */
export class SchemaDisagreement extends ServiceUnavailable {
  static override readonly code: string = 'SchemaDisagreement';
}

/** A schema was never migrated (npm run migrate). */
export class SchemaMissing extends TrackflowError {
  static override readonly code: string = 'SchemaMissing';
  static override readonly retryable: boolean = false;
}

/** The thing a command was asked about does not exist: a workflow, a schedule, a batch, a quarantined row. */
export class NotFound extends TrackflowError {
  static override readonly code: string = 'NotFound';
  static override readonly retryable: boolean = false;
}

/** What a command was asked to create exists already (a schedule). */
export class AlreadyExists extends TrackflowError {
  static override readonly code: string = 'AlreadyExists';
  static override readonly retryable: boolean = false;
}

/** A command's check did not hold: a wait that timed out. */
export class CheckFailed extends TrackflowError {
  static override readonly code: string = 'CheckFailed';
  static override readonly retryable: boolean = false;
}

// --- Input files (ingest and the job dimension): retrying reads the same bytes again -----------------------

export class FileNotFound extends TrackflowError {
  static override readonly code: string = 'FileNotFound';
  static override readonly retryable: boolean = false;
}

/** Not readable: permissions, not a regular file, a corrupt gzip stream, an I/O error. */
export class FileUnreadable extends TrackflowError {
  static override readonly code: string = 'FileUnreadable';
  static override readonly retryable: boolean = false;
}

export class FileTooLarge extends TrackflowError {
  static override readonly code: string = 'FileTooLarge';
  static override readonly retryable: boolean = false;
}

/** The file's bytes changed between hashing and reading: it was still being written. */
export class FileChanged extends TrackflowError {
  static override readonly code: string = 'FileChanged';
  static override readonly retryable: boolean = false;
}

/** The header is missing, not a CSV record, or not the export format. */
export class InvalidHeader extends TrackflowError {
  static override readonly code: string = 'InvalidHeader';
  static override readonly retryable: boolean = false;
}

/** More rows rejected than the limits allow: the file stops there. */
export class TooManyRejects extends TrackflowError {
  static override readonly code: string = 'TooManyRejects';
  static override readonly retryable: boolean = false;
}

export class PathOutsideInputDirs extends TrackflowError {
  static override readonly code: string = 'PathOutsideInputDirs';
  static override readonly retryable: boolean = false;
}

export class SymlinkRefused extends TrackflowError {
  static override readonly code: string = 'SymlinkRefused';
  static override readonly retryable: boolean = false;
}

export class PathNotRegular extends TrackflowError {
  static override readonly code: string = 'PathNotRegular';
  static override readonly retryable: boolean = false;
}

// --- Messages and the stream -----------------------------------------------------------------------------

/** A Kafka message (or a lake row on its way to one) that breaks the message contract; it is dead-lettered. */
export class PoisonMessageError extends TrackflowError {
  static override readonly code: string = 'PoisonMessageError';
  static override readonly retryable: boolean = false;
}

/** A message MySQL refused on its own, after its chunk was split down to it; it is dead-lettered. */
export class WarehouseRejectedError extends TrackflowError {
  static override readonly code: string = 'WarehouseRejectedError';
  static override readonly retryable: boolean = false;
}

/** The stream's servers stayed unreachable for a whole lease; Temporal retries the lease. */
export class StreamUnavailableError extends TrackflowError {
  static override readonly code: string = 'StreamUnavailableError';
  static override readonly exitCode: ExitCode = EXIT.unavailable;
}

/** A time or an hour range given on a command line or to a workflow that is not an ISO 8601 hour. */
export class HourFormatError extends TrackflowError {
  static override readonly code: string = 'HourFormatError';
  static override readonly retryable: boolean = false;
  static override readonly exitCode: ExitCode = EXIT.usage;
}

// --- Workflow outcomes (raised inside workflows as ApplicationFailure with this code as the type) ---------

/** A verify or rebuild range that is half given or not an hour. */
export class InvalidHourRange extends TrackflowError {
  static override readonly code: string = 'InvalidHourRange';
  static override readonly retryable: boolean = false;
}

/** The daily verify found warehouse rows that differ from the lake. */
export class WarehouseDiffers extends TrackflowError {
  static override readonly code: string = 'WarehouseDiffers';
  static override readonly retryable: boolean = false;
}

/** An ingest run finished with failed files; the failure's details hold the run's result. */
export class IngestFilesFailed extends TrackflowError {
  static override readonly code: string = 'IngestFilesFailed';
  static override readonly retryable: boolean = false;
}

/** Every class of the taxonomy; a test checks that no exported class is missing here. */
export const ERROR_CLASSES: ReadonlyArray<typeof TrackflowError> = [
  UsageError, ConfigError, ServiceUnavailable, SchemaDisagreement, SchemaMissing, NotFound, AlreadyExists, CheckFailed,
  FileNotFound, FileUnreadable, FileTooLarge, FileChanged, InvalidHeader, TooManyRejects,
  PathOutsideInputDirs, SymlinkRefused, PathNotRegular,
  PoisonMessageError, WarehouseRejectedError, StreamUnavailableError, HourFormatError,
  InvalidHourRange, WarehouseDiffers, IngestFilesFailed,
];

/** The failure types a retry policy must not retry. */
export const NON_RETRYABLE_CODES: readonly string[] = ERROR_CLASSES.filter((c) => !c.retryable).map((c) => c.code);

const BY_CODE = new Map(ERROR_CLASSES.map((c) => [c.code, c]));

/** The taxonomy class of a failure type (an ApplicationFailure's `type`), if it is one of ours. */
export function classOfCode(code: string | null | undefined): typeof TrackflowError | undefined {
  return code ? BY_CODE.get(code) : undefined;
}

/**
 * Whether retrying may help: false for a taxonomy error marked non-retryable, and for a failure (an
 * ApplicationFailure, read by shape so this module imports nothing) flagged non-retryable or of such a type.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TrackflowError) return err.retryable;
  const f = err as { nonRetryable?: unknown; type?: unknown } | null | undefined;
  if (f?.nonRetryable === true) return false;
  const kind = typeof f?.type === 'string' ? classOfCode(f.type) : undefined;
  return kind ? kind.retryable : true;
}
