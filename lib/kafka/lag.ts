/** A partition's consumer lag: how far the stored next offset is behind the topic's high watermark. */
export interface PartitionLag {
  partition: number;
  /** The topic's high watermark: the offset the next produced message will get. */
  high: number;
  /** The consumer group's stored next offset in MySQL (the partition's low watermark when none is stored). */
  next: number;
  lag: number;
}

/**
 * Lag per partition, ascending, from Kafka's watermarks (admin.fetchTopicOffsets) and the stored offsets. A
 * partition with no stored offset has consumed nothing, so it lags by whatever is still retained (high - low).
 */
export function partitionLags(
  offsets: ReadonlyArray<{ partition: number; high: string; low: string }>,
  stored: ReadonlyMap<number, string>,
): PartitionLag[] {
  return offsets
    .map((o) => {
      const high = Number(o.high);
      const next = Number(stored.get(o.partition) ?? o.low);
      return { partition: o.partition, high, next, lag: Math.max(0, high - next) };
    })
    .sort((a, b) => a.partition - b.partition);
}

export function totalLag(partitions: readonly PartitionLag[]): number {
  return partitions.reduce((n, p) => n + p.lag, 0);
}
