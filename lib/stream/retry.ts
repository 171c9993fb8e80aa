import { setTimeout as wait } from 'node:timers/promises';
import { WarehouseRejectedError } from '../domain/errors';
/**
 * MySQL errors that belong to the values of a batch, not to the server: retrying the same batch fails the
 * same way forever, while the batch without the offending message commits. The consumer splits the chunk
 * to find that message (lib/stream/consumer.ts). Everything else (connection, deadlock, lock wait, a server
 * restart) is transient and retried as it is.
 */
const DATA_ERROR_CODES = new Set([
  'ER_BAD_NULL_ERROR', // 1048
  'ER_WARN_DATA_OUT_OF_RANGE', // 1264
  'WARN_DATA_TRUNCATED', // 1265
  'ER_TRUNCATED_WRONG_VALUE', // 1292
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', // 1366
  'ER_ILLEGAL_VALUE_FOR_TYPE', // 1367
  'ER_DATA_TOO_LONG', // 1406
  'ER_WRONG_VALUE_FOR_TYPE', // 1411
  'ER_DATA_OUT_OF_RANGE', // 1690
  'ER_INVALID_CHARACTER_STRING', // 1300
  'ER_CONSTRAINT_FAILED', // MariaDB 4025
  'ER_CHECK_CONSTRAINT_VIOLATED', // MySQL 3819
]);
const DATA_ERROR_ERRNOS = new Set([1048, 1264, 1265, 1292, 1300, 1366, 1367, 1406, 1411, 1690, 3819, 4025]);

export function isDataError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; fatal?: unknown } | undefined;
  if (!e || e.fatal === true) return false;
  return (typeof e.code === 'string' && DATA_ERROR_CODES.has(e.code)) || (typeof e.errno === 'number' && DATA_ERROR_ERRNOS.has(e.errno));
}

export { WarehouseRejectedError };

export function warehouseRejected(err: unknown): WarehouseRejectedError {
  const e = err as { code?: string; message?: string };
  return new WarehouseRejectedError(`rejected by MySQL: ${e.code ?? 'error'}: ${e.message ?? String(err)}`);
}

/**
 * The stream's one backoff: 200 ms doubling per attempt, capped at 5 s, with ±25 % jitter so the consumers
 * of a group that failed together do not retry in step. `random` is injectable for tests.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.min(5000, 200 * 2 ** Math.max(0, attempt)) * (0.75 + random() / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).then(
    () => undefined,
    () => undefined,
  );
}

/** What a retry loop needs from its lease: whether to give up, where to report a failure, what aborts a wait. */
export interface RetryScope {
  shouldStop(): boolean;
  noteError(where: string, err: unknown): void;
  signal?: AbortSignal;
}

/**
 * Retries `fn` with `backoffMs` until it succeeds or the scope stops ('aborted'). `keepAlive` runs after each
 * wait (the Kafka heartbeat of the batch being handled), so a long outage does not cost the group membership.
 */
export async function retryUntilStopped<T>(
  scope: RetryScope,
  where: string,
  fn: () => Promise<T>,
  keepAlive?: () => Promise<void>,
): Promise<T | 'aborted'> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      scope.noteError(where, err);
      if (scope.shouldStop()) return 'aborted';
      await sleep(backoffMs(attempt), scope.signal);
      if (keepAlive) await keepAlive().catch(() => undefined);
      if (scope.shouldStop()) return 'aborted';
    }
  }
}
