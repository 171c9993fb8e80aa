/**
 * Fault hooks for the tests (lib/faults.ts). A spec says where a process should die; `hookFor` turns it
 * into the hook the activities' deps carry. Production code never imports this file.
 */
import type { ActivityFaultHook, FaultHook, FaultPoint } from '../../lib/faults';

export type FaultSpec =
  /** The stream process dies just before, or just after, the COMMIT of its `nth` batch transaction. */
  | { stage: 'stream'; point: 'before-commit' | 'after-commit'; nth: number }
  /** A first publish attempt dies once Kafka acknowledged `afterPages` pages, before their progress is recorded. */
  | { stage: 'publish'; afterPages: number }
  /** A first rebuild attempt dies once it has rebuilt (and heartbeated) `hour`. */
  | { stage: 'rebuild'; hour: string }
  /** A first ingest attempt dies once `afterRows` rows are written, before their checkpoint. */
  | { stage: 'ingest'; afterRows: number };

/** Thrown by an in-process hook: the "crash" a test then recovers from. */
export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

export const killSelf = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new SimulatedCrash('SIGKILL did not stop the process');
};

/**
 * The hook of a spec: `die` runs at the point (default: SIGKILL this process). Stream transactions are
 * numbered by the order they reach their COMMIT in this process; the after-commit fault fires after the COMMIT
 * of that same transaction, which other partitions' transactions may overtake.
 */
export function hookFor(spec: FaultSpec, die: () => void = killSelf): ActivityFaultHook {
  let commits = 0;
  let target: string | undefined;
  return (at: FaultPoint, attempt: number) => {
    if (spec.stage === 'stream' && at.stage === 'stream') {
      const key = `${at.partition}:${at.expectedOffset}`;
      if (at.point === 'before-commit' && ++commits === spec.nth) {
        target = key;
        if (spec.point === 'before-commit') die();
      }
      if (at.point === 'after-commit' && spec.point === 'after-commit' && key === target) die();
      return;
    }
    // Later attempts must run clean, or the retry would die the same way forever.
    if (attempt > 1) return;
    if (spec.stage === 'publish' && at.stage === 'publish' && at.pagesSent >= spec.afterPages) die();
    if (spec.stage === 'rebuild' && at.stage === 'rebuild' && at.hour === spec.hour) die();
    if (spec.stage === 'ingest' && at.stage === 'ingest' && at.rowsRead >= spec.afterRows) die();
  };
}

/** A stage-level hook (no activity around it) that throws SimulatedCrash at the spec's point. */
export function crashAt(spec: FaultSpec): FaultHook {
  const hook = hookFor(spec, () => {
    throw new SimulatedCrash(`simulated crash at ${JSON.stringify(spec)}`);
  });
  return (at) => hook(at, 1);
}
