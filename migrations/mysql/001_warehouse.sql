-- Warehouse fact table and the stream consumer's bookkeeping.
-- Shared subset of MySQL 8.x and MariaDB 10.11: plain DDL, no RETURNING, no JSON defaults.

-- One row per contract group key. bid_sum holds the exact sum of click bids (scale 6 keeps doubles such as
-- 0.5, 1.25 or 0.125 exact); bid_set is derived from it on every upsert so late events never drift it.
CREATE TABLE events (
  job_id BIGINT NOT NULL,
  dates DATE NOT NULL,
  hours TINYINT NOT NULL,
  publisher_id BIGINT NOT NULL,
  campaign_id BIGINT NOT NULL,
  group_id BIGINT NOT NULL,
  bid_set DECIMAL(20,2) NULL,
  clicks INT NOT NULL DEFAULT 0,
  spend_hour DECIMAL(24,6) NOT NULL DEFAULT 0,
  conversion INT NOT NULL DEFAULT 0,
  qualified_application INT NOT NULL DEFAULT 0,
  disqualified_application INT NOT NULL DEFAULT 0,
  company_id BIGINT NULL,
  sources VARCHAR(16) NOT NULL DEFAULT 'Cassandra',
  bid_sum DECIMAL(24,6) NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL,
  -- The group key is the clustered primary key (a unique key): upserts touch one B-tree page per row.
  PRIMARY KEY (job_id, dates, hours, publisher_id, campaign_id, group_id),
  KEY ix_events_company_null (company_id, job_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The consumer's position per partition, the single source of truth (Kafka's own group offsets are not used).
-- attempt_token names the lease that last moved it, for forensics after a fencing refusal.
CREATE TABLE consumer_offsets (
  consumer_group VARCHAR(190) NOT NULL,
  topic VARCHAR(190) NOT NULL,
  partition_id INT NOT NULL,
  next_offset BIGINT NOT NULL,
  attempt_token VARCHAR(64) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Idempotent-consumer ledger: one row per event that changed the warehouse. The id is the time UUID with
-- its time fields reordered high-to-low, so inserts land near the end of the primary key.
CREATE TABLE counted_events (
  event_id BINARY(16) NOT NULL,
  partition_id INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  counted_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (event_id)
) ENGINE=InnoDB;

-- Per-stage totals, added in the same transaction as the offsets, so they are exactly-once too.
CREATE TABLE stream_counters (
  consumer_group VARCHAR(190) NOT NULL,
  topic VARCHAR(190) NOT NULL,
  partition_id INT NOT NULL,
  consumed BIGINT NOT NULL DEFAULT 0,
  counted BIGINT NOT NULL DEFAULT 0,
  filtered BIGINT NOT NULL DEFAULT 0,
  unattributed BIGINT NOT NULL DEFAULT 0,
  dead_lettered BIGINT NOT NULL DEFAULT 0,
  duplicates BIGINT NOT NULL DEFAULT 0,
  unknown_job BIGINT NOT NULL DEFAULT 0,
  batches BIGINT NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
