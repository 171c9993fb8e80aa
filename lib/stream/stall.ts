/** A partition's stored position and lag (the shape of PartitionProgress in ./leaseSummary). */
export interface PartitionPosition {
  partition: number;
  nextOffset: string;
  lag: number;
}

export interface StalledPartition {
  partition: number;
  nextOffset: string;
  lag: number;
  /** Milliseconds the stored offset has not moved while the partition had lag. */
  stalledMs: number;
}

/**
 * Watches each partition's stored offset: one that has lag and has not moved for `stallMs` is stalled (a
 * batch that keeps failing, a consumer that does not poll). Pure apart from the clock passed in.
 */
export class StallWatch {
  private readonly last = new Map<number, { offset: string; since: number }>();

  constructor(private readonly stallMs: number) {}

  observe(partitions: PartitionPosition[], now: number): StalledPartition[] {
    const stalled: StalledPartition[] = [];
    for (const p of partitions) {
      const prev = this.last.get(p.partition);
      if (!prev || prev.offset !== p.nextOffset || p.lag === 0) {
        this.last.set(p.partition, { offset: p.nextOffset, since: now });
        continue;
      }
      const stalledMs = now - prev.since;
      if (stalledMs >= this.stallMs) stalled.push({ partition: p.partition, nextOffset: p.nextOffset, lag: p.lag, stalledMs });
    }
    return stalled;
  }
}

/** The one-line status of a lease's partitions, for the heartbeat details and the summary. */
export function stallStatus(stalled: StalledPartition[]): string {
  if (stalled.length === 0) return 'ok';
  return stalled
    .map((s) => `partition ${s.partition} stalled for ${Math.round(s.stalledMs / 1000)} s at offset ${s.nextOffset} with lag ${s.lag}`)
    .join('; ');
}
