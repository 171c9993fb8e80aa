/**
 * The pipeline's summary counters, defined once: the activities report them, the MySQL and Cassandra rows
 * store them, reconcile balances them (docs/reconcile.md) and the metrics label them.
 */

/** Ingest: every record read has one outcome, rowsRead = written + alreadyPresent + rejected. */
export interface IngestCounts {
  rowsRead: number;
  written: number;
  alreadyPresent: number;
  rejected: number;
}

/** The `result` label of trackflow_ingest_rows_total for each ingest outcome. */
export const INGEST_ROW_RESULTS = { written: 'written', alreadyPresent: 'already_present', rejected: 'rejected' } as const satisfies Partial<Record<keyof IngestCounts, string>>;

/** Publish: every written lake row is published or quarantined at publish. */
export interface PublishCounts {
  published: number;
  quarantined: number;
}

/** Stream: consumed - redelivered = filtered + unattributed + deadLettered + duplicates + counted. */
export interface StreamOutcomes {
  consumed: number;
  counted: number;
  filtered: number;
  unattributed: number;
  deadLettered: number;
  /** Countable events whose id was already counted (the ledger refused them). */
  duplicates: number;
  /** Copies re-sent by a publisher after a crash, recognised by their publish sequence. */
  redelivered: number;
  unknownJob: number;
}

/** What a consumer lease, and the committed totals of a group, report. */
export interface ConsumeCounts extends StreamOutcomes {
  batches: number;
}

/** The stream_counters column of each consume counter. */
export const STREAM_COUNTER_COLUMNS = {
  consumed: 'consumed',
  counted: 'counted',
  filtered: 'filtered',
  unattributed: 'unattributed',
  deadLettered: 'dead_lettered',
  duplicates: 'duplicates',
  redelivered: 'redelivered',
  unknownJob: 'unknown_job',
  batches: 'batches',
} as const satisfies Record<keyof ConsumeCounts, string>;

/** The `result` label of trackflow_stream_events_total for each message outcome. */
export const STREAM_EVENT_RESULTS = {
  counted: 'counted',
  filtered: 'filtered',
  unattributed: 'unattributed',
  deadLettered: 'dead_lettered',
  redelivered: 'redelivered',
  duplicates: 'duplicate',
} as const satisfies Partial<Record<keyof StreamOutcomes, string>>;
