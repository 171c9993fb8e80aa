import { PoisonMessageError } from '../domain/message';
import type { CountableEvent } from '../domain/transform';
import type { PublishOrigin } from '../publish/headers';
import { checkBatchName } from '../domain/message';

/**
 * The warehouse columns a message's fields end in (migrations/mysql), checked before the batch transaction:
 * a value MySQL would refuse fails that one message (dead-lettered), never the whole transaction.
 */
/** bid_sum / spend_hour DECIMAL(30,6): 24 integer digits, as millionths. */
const BID_SUM_LIMIT = 10n ** 30n;

export class ColumnRangeError extends PoisonMessageError {
  override name = 'ColumnRangeError';
}

/** Safe integers are below 2^53, far inside BIGINT: the range check is the safe-integer check. */
function bigintColumn(value: number, column: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ColumnRangeError(`${column} ${value} does not fit BIGINT (non-negative integer)`);
  }
}

/** events: the group key (BIGINT ids, DATE, TINYINT hour) and the bid (DECIMAL(30,6)). */
export function checkEventColumns(e: CountableEvent): void {
  bigintColumn(e.jobId, 'job_id');
  bigintColumn(e.publisherId, 'publisher_id');
  bigintColumn(e.campaignId, 'campaign_id');
  bigintColumn(e.groupId, 'group_id');
  // ISO text from a Date: 10 characters for years 0000..9999, compared as text.
  if (e.dates.length !== 10 || e.dates < '1000-01-01' || e.dates > '9999-12-31') {
    throw new ColumnRangeError(`dates ${e.dates} is outside DATE's range`);
  }
  if (!Number.isInteger(e.hours) || e.hours < 0 || e.hours > 23) throw new ColumnRangeError(`hours ${e.hours} is not 0..23`);
  const abs = e.bidMicros < 0n ? -e.bidMicros : e.bidMicros;
  if (abs >= BID_SUM_LIMIT) throw new ColumnRangeError(`bid of ${e.bidMicros} millionths does not fit DECIMAL(30,6)`);
}

/** publish_watermarks: ingest_batch VARCHAR(64), max_seq BIGINT. */
export function checkOriginColumns(o: PublishOrigin): void {
  checkBatchName(o.batch, 'publish origin');
  bigintColumn(o.seq, 'publish seq');
}
