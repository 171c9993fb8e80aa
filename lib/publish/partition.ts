/**
 * Partition for an event without a job id. kafkajs spreads null-key messages randomly, but a re-sent copy
 * must land in the same partition as the original for the consumer's watermark to recognise it.
 */
export function partitionForEvent(eventId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    hash ^= eventId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
