-- Retention of the idempotent-consumer ledger: `trackflow ledger prune` deletes the oldest ids in bounded
-- chunks, which needs them in counted_at order. New rows land at the right edge of this index.
ALTER TABLE counted_events ADD INDEX idx_counted_events_counted_at (counted_at);
