/**
 * The one fault seam of the pipeline. Stages call an optional hook at the points where a crash is worth
 * testing; a test that wants a crash passes a hook that throws or kills its own process. Production never
 * sets one: workers build their activities without it, and nothing reads it from the environment.
 */
export type FaultPoint =
  /** Ingest wrote a chunk to the lake and has not checkpointed it yet. */
  | { stage: 'ingest'; point: 'chunk-written'; rowsRead: number; line: number }
  /** Kafka acknowledged a publish page whose progress row is not written yet. */
  | { stage: 'publish'; point: 'page-acknowledged'; pagesSent: number }
  /** A batch transaction of the stream, just before or just after its MySQL COMMIT. */
  | { stage: 'stream'; point: 'before-commit' | 'after-commit'; partition: number; expectedOffset: string }
  /** A rebuild finished (and heartbeated) one hour. */
  | { stage: 'rebuild'; point: 'hour-rebuilt'; hour: string };

/** What a stage calls. */
export type FaultHook = (at: FaultPoint) => void;

/** What the activities' deps carry: the hook also learns which attempt of the activity reached the point. */
export type ActivityFaultHook = (at: FaultPoint, attempt: number) => void;

/** The stage hook for one activity attempt, or undefined when no hook is installed (production). */
export function faultForAttempt(hook: ActivityFaultHook | undefined, attempt: number): FaultHook | undefined {
  return hook ? (at) => hook(at, attempt) : undefined;
}
