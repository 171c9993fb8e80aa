import type { CompressionTypes, IHeaders, KafkaMessage, Message, Producer } from 'kafkajs';
import { sendSized } from '../kafka/sizedSend';

export const DLQ_HEADERS = {
  topic: 'trackflow-original-topic',
  partition: 'trackflow-original-partition',
  offset: 'trackflow-original-offset',
  errorClass: 'trackflow-error-class',
  errorMessage: 'trackflow-error-message',
  /** Set when the value was cut to fit the DLQ's batch limit: the original length in bytes. */
  truncated: 'trackflow-value-truncated',
} as const;

/** A message the stage cannot process, with the reason. */
export interface PoisonMessage {
  message: KafkaMessage;
  error: Error;
}

export interface DeadLetterTarget {
  producer: Producer;
  /** The dead-letter topic. */
  topic: string;
  /** Its max.message.bytes. */
  maxBatchBytes: number;
  /** The main topic's codec (TRACKFLOW_KAFKA_COMPRESSION). */
  compression: CompressionTypes;
  source: { topic: string; partition: number };
}

/** The DLQ record of one poison message: original key and value, where it came from and why. */
export function deadLetterRecord(p: PoisonMessage, source: DeadLetterTarget['source']): Message {
  const headers: IHeaders = {
    [DLQ_HEADERS.topic]: source.topic,
    [DLQ_HEADERS.partition]: String(source.partition),
    [DLQ_HEADERS.offset]: p.message.offset,
    [DLQ_HEADERS.errorClass]: p.error.name,
    [DLQ_HEADERS.errorMessage]: p.error.message.slice(0, 1000),
  };
  return { key: p.message.key, value: p.message.value, headers };
}

/**
 * A record too large for the DLQ even on its own (its headers pushed it over): the value is cut to a
 * quarter of the limit and the original length recorded. The full value stays at its source offset.
 */
function truncatedRecord(record: Message, maxBatchBytes: number): Message {
  const value = record.value === null ? null : Buffer.from(record.value);
  const keep = Math.floor(maxBatchBytes / 4);
  const key = record.key === null || record.key === undefined ? record.key : Buffer.from(record.key).subarray(0, 1024);
  return {
    key,
    value: value ? value.subarray(0, keep) : null,
    headers: { ...record.headers, [DLQ_HEADERS.truncated]: String(value?.length ?? 0) },
  };
}

/**
 * Sends the poison messages to the DLQ, compressed like the main topic, in sends split by size under the
 * topic's limit. A record the broker still refuses alone is sent truncated; if even that is refused, the
 * error is thrown (it is not the message's fault, so the caller's retry applies).
 */
export async function sendDeadLetters(target: DeadLetterTarget, poison: PoisonMessage[]): Promise<number> {
  if (poison.length === 0) return 0;
  const records = poison.map((p) => deadLetterRecord(p, target.source));
  let truncated = 0;
  await sendSized(target.producer, {
    topic: target.topic,
    messages: records,
    maxBatchBytes: target.maxBatchBytes,
    compression: target.compression,
    acks: -1,
    onRejected: async (record) => {
      truncated += 1;
      await target.producer.send({
        topic: target.topic,
        acks: -1,
        compression: target.compression,
        messages: [truncatedRecord(record, target.maxBatchBytes)],
      });
    },
  });
  return truncated;
}

/**
 * Sends the poison not yet sent for this kafkajs batch and marks it sent: a transaction retried after a
 * MySQL failure, or split after a data error, does not dead-letter the same message twice.
 */
export async function sendUnsent(target: DeadLetterTarget, poison: PoisonMessage[], sent: Set<string>): Promise<number> {
  const todo = poison.filter((p) => !sent.has(p.message.offset));
  if (todo.length === 0) return 0;
  const truncated = await sendDeadLetters(target, todo);
  for (const p of todo) sent.add(p.message.offset);
  return truncated;
}
