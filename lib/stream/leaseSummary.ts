import type { ConsumeCounts } from '../domain/counters';
/** Consumer slots and what one consumer lease reports (activity result and heartbeat details). */

export interface ConsumerSlot {
  index: number;
  count: number;
}

/** Who ran a lease of one consumer slot and what it owned (summary and heartbeat details). */
export interface ConsumerIdentity extends ConsumerSlot {
  /** `host:pid` of the stream worker process that ran the lease. */
  worker: string;
  partitions: number[];
}

export interface PartitionProgress {
  partition: number;
  nextOffset: string;
  lag: number;
}

export type { ConsumeCounts };

export interface ConsumeLeaseSummary {
  counts: ConsumeCounts;
  partitions: PartitionProgress[];
  lag: number;
  endReason: 'lease-expired' | 'caught-up' | 'cancelled';
  lastError?: string;
  durationMs: number;
  /** Set when the lease ran as one of several consumers; `partitions` then lists only its own. */
  consumer?: ConsumerIdentity;
}
