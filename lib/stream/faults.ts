/**
 * Crash injection for the fault tests. Inert unless TRACKFLOW_FAULTS=1 and TRACKFLOW_FAULT_STREAM names the
 * point; TRACKFLOW_FAULT_STREAM_BATCH=N picks the Nth batch transaction of this process (default 1).
 */
import { faultEnv } from '../config';
import type { FaultEnv } from '../envSchema';

export type StreamFaultPoint = 'before-commit' | 'after-commit';

let batchesSeen = 0;

/** Numbers each batch transaction of the process, so both fault points refer to the same batch. */
export function nextFaultBatch(): number {
  batchesSeen += 1;
  return batchesSeen;
}

export function streamFault(point: StreamFaultPoint, batch: number, faults: FaultEnv = faultEnv()): void {
  if (!faults.TRACKFLOW_FAULTS || faults.TRACKFLOW_FAULT_STREAM !== point) return;
  if (batch !== faults.TRACKFLOW_FAULT_STREAM_BATCH) return;
  process.kill(process.pid, 'SIGKILL');
}
