import type { KafkaMessage } from 'kafkajs';
import type { BatchCommitResult } from './commit';
import { commitBatch } from './commit';
import type { Piece, PreparedChunk } from './chunk';
import { halves, offsetAfter, prepareChunk } from './chunk';
import { addCommitted, recordCommitMetrics } from './counts';
import { sendUnsent } from './deadLetter';
import type { Lease } from './lease';
import { noteHealthy, retryScope } from './lease';
import { isDataError, retryUntilStopped, warehouseRejected } from './retry';

export type PieceOutcome = { status: 'committed'; nextOffset: string } | { status: 'fenced'; storedOffset: string | null } | { status: 'aborted' };

type Attempt = BatchCommitResult | { status: 'data-error'; error: unknown };

/** Dead-letters the chunk's new poison, then runs its transaction; a MySQL data error is returned, not thrown. */
async function attemptCommit(lease: Lease, piece: Piece, chunk: PreparedChunk, nextOffset: string): Promise<Attempt> {
  const { ctx, state } = lease;
  const { producer, dlqMaxBatchBytes } = state.clients;
  if (producer) {
    const target = { producer, topic: ctx.deadLetterTopic, maxBatchBytes: dlqMaxBatchBytes, compression: ctx.compression, source: { topic: ctx.topic, partition: piece.partition } };
    const truncated = await sendUnsent(target, chunk.poison, piece.sentToDlq);
    if (truncated) ctx.log('dead-lettered values truncated to fit the DLQ', { partition: piece.partition, truncated });
  }
  try {
    const started = performance.now();
    const committed = await commitBatch(ctx.mysql, ctx.jobs, {
      group: ctx.group, topic: ctx.topic, partition: piece.partition, expectedOffset: piece.expected,
      earliestOffset: state.earliest.get(piece.partition), nextOffset,
      countable: chunk.countable, counts: chunk.counts, origins: chunk.origins, attemptToken: ctx.attemptToken, fault: ctx.fault,
    });
    ctx.metrics.observe('trackflow_stream_commit_seconds', (performance.now() - started) / 1000);
    return committed;
  } catch (err) {
    if (!isDataError(err)) throw err;
    return { status: 'data-error', error: err };
  }
}

/**
 * Commits a piece as one transaction, its poison sent to the DLQ first; transient failures are retried. A
 * MySQL data error, which would fail the same transaction forever, goes to isolateRefused.
 */
export async function commitPiece(lease: Lease, piece: Piece, forced: Map<string, Error>, keepAlive: () => Promise<void>): Promise<PieceOutcome> {
  const nextOffset = offsetAfter(piece.lastOffset);
  const t0 = process.hrtime.bigint();
  const chunk = prepareChunk(piece.messages, forced);
  const result = await retryUntilStopped(retryScope(lease), 'commit', () => attemptCommit(lease, piece, chunk, nextOffset), keepAlive);
  if (result === 'aborted') return { status: 'aborted' };
  if (result.status === 'data-error') return isolateRefused(lease, piece, forced, result.error, keepAlive);
  if (result.status === 'fenced') return { status: 'fenced', storedOffset: result.storedOffset };
  noteHealthy(lease);
  addCommitted(lease.state.counts, result);
  recordCommitMetrics(lease.ctx.metrics, result, {
    partition: piece.partition,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    oldestTimestamp: Number(piece.messages[0]?.timestamp),
    deadLettered: chunk.counts.deadLettered,
  });
  return { status: 'committed', nextOffset };
}

/**
 * Splits a refused piece in halves committed in turn, down to the one message MySQL refuses: that message
 * is dead-lettered with MySQL's reason and the rest commits.
 */
async function isolateRefused(
  lease: Lease,
  piece: Piece,
  forced: Map<string, Error>,
  error: unknown,
  keepAlive: () => Promise<void>,
): Promise<PieceOutcome> {
  lease.ctx.metrics.inc('trackflow_stream_data_errors_total', 'Batch transactions MySQL refused for a value, split to isolate it');
  lease.ctx.log('MySQL refused a value; splitting the chunk', { partition: piece.partition, messages: piece.messages.length, error: (error as Error).message });
  if (piece.messages.length === 1) {
    const offset = (piece.messages[0] as KafkaMessage).offset;
    // Refused even with the message dead-lettered: the schema, not the input. Raised to the consumer's
    // crash handling (the lease reports the partition stalled), never retried here in a loop.
    if (forced.has(offset)) throw error;
    forced.set(offset, warehouseRejected(error));
    return commitPiece(lease, piece, forced, keepAlive);
  }
  const [firstHalf, secondHalf] = halves(piece);
  const first = await commitPiece(lease, firstHalf, forced, keepAlive);
  if (first.status !== 'committed') return first;
  return commitPiece(lease, { ...secondHalf, expected: first.nextOffset }, forced, keepAlive);
}
