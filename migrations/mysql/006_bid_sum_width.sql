-- A group's bid sum must fit whatever clicks it gets. Bids are below 10^12 and clicks is an INT (< 2^31),
-- so a sum stays under 10^22: 24 integer digits hold it, DECIMAL(24,6)'s 18 did not (an insert past them
-- fails, and the partition with it). spend_hour carries the same value.
ALTER TABLE events MODIFY bid_sum DECIMAL(30,6) NOT NULL DEFAULT 0, MODIFY spend_hour DECIMAL(30,6) NOT NULL DEFAULT 0;
