-- verify and rebuild read, and rebuild deletes, the warehouse rows of one hour; without this index each would
-- scan (and rebuild lock) the whole table.
ALTER TABLE events ADD INDEX ix_events_hour (dates, hours);
