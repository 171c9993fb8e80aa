import type { EachBatchPayload } from 'kafkajs';
import { fetchedOffset, positionBatch, reseekStored } from './assignment';
import { planChunks } from './chunk';
import type { Lease } from './lease';
import { shouldStop } from './lease';
import { commitPiece } from './piece';

/**
 * The Kafka heartbeat of one batch. It also learns when the group is rebalancing: the rest of the batch is
 * then left to whoever owns the partition next (it re-reads from the stored offset). Committing it first
 * would hold up the whole group until this batch is done, or past the rebalance timeout.
 */
function batchHeartbeat(payload: EachBatchPayload): { beat: () => Promise<void>; rebalancing: () => boolean } {
  let rebalancing = false;
  const beat = async () => {
    await payload.heartbeat().catch((err: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'REBALANCE_IN_PROGRESS') rebalancing = true;
    });
  };
  return { beat, rebalancing: () => rebalancing };
}

/**
 * kafkajs' eachBatch: positions the partition at its MySQL offset on its first batch of a generation, then
 * commits the batch chunk by chunk, each chunk one transaction that advances the stored offset. Stops at a
 * fenced chunk (and re-seeks), a rebalance, a stale batch, a new generation or the end of the lease.
 */
export async function consumeBatch(lease: Lease, payload: EachBatchPayload): Promise<void> {
  const { batch, resolveOffset, isStale } = payload;
  const { state, ctx } = lease;
  const hb = batchHeartbeat(payload);
  if (shouldStop(lease)) return;
  const partition = batch.partition;
  const generation = state.generation;
  const fetched = fetchedOffset(batch);
  if ((await positionBatch(lease, partition, fetched, generation, hb.beat)) !== 'ready') return;

  let expected = fetched;
  const sentToDlq = new Set<string>();
  const forced = new Map<string, Error>();
  for (const chunk of planChunks(batch.messages, ctx.chunkSize, batch.lastOffset())) {
    if (shouldStop(lease) || hb.rebalancing() || isStale() || state.generation !== generation) return;
    const outcome = await commitPiece(lease, { partition, messages: chunk.messages, expected, lastOffset: chunk.lastOffset, sentToDlq }, forced, hb.beat);
    if (outcome.status === 'aborted') return;
    if (outcome.status === 'fenced') {
      state.counts.fenced += 1;
      ctx.metrics.inc('trackflow_stream_fenced_total', 'Batches refused by the offset compare-and-set');
      ctx.log('batch fenced: offset moved by another attempt', { partition, expected, stored: outcome.storedOffset });
      await reseekStored(lease, partition, hb.beat);
      return;
    }
    resolveOffset(chunk.lastOffset);
    expected = outcome.nextOffset;
    await hb.beat();
  }
}
