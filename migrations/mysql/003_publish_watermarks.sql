-- Highest publish-queue sequence number seen per partition and ingest batch. A publisher that crashed after
-- Kafka acknowledged a page, but before it recorded its progress, sends that page again; those copies carry
-- sequence numbers at or below this mark and are skipped (counted as redelivered), in the batch transaction.
CREATE TABLE publish_watermarks (
  consumer_group VARCHAR(190) NOT NULL,
  topic VARCHAR(190) NOT NULL,
  partition_id INT NOT NULL,
  ingest_batch VARCHAR(64) NOT NULL,
  max_seq BIGINT NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition_id, ingest_batch)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE stream_counters ADD COLUMN redelivered BIGINT NOT NULL DEFAULT 0;
