-- Streaming path (issue 4): tombstones, composite positions, per-partition watermarks,
-- and an index that lets the changelog transport read in (tx_id, id) order.

-- A changelog position is (tx_id, id): rows are read in transaction order once every
-- transaction below the snapshot's xmin has finished, so `sub_position` carries the
-- changelog id inside a transaction. Kafka positions leave it at 0.
ALTER TABLE dualrun.stream_positions
  ADD COLUMN sub_position bigint NOT NULL DEFAULT 0,
  -- This partition's contribution to the dataset watermark: the newest source event
  -- time applied, or the time the head was observed when the partition is caught up.
  ADD COLUMN event_time timestamptz,
  -- Exactly-once counters, moved with the position: records applied (including
  -- no-ops such as tombstones or a transform returning null) and dead-lettered.
  ADD COLUMN records_applied bigint NOT NULL DEFAULT 0,
  ADD COLUMN records_dead bigint NOT NULL DEFAULT 0;

CREATE INDEX changelog_source_tx ON dualrun.changelog (source_table, tx_id, id);

-- Deletes applied by the stream sink. `record_key` is jsonb_build_object over the
-- output table's typed key columns (the reconciler joins on it); `version` blocks a
-- late, older insert or update of the same key from resurrecting the row.
CREATE TABLE dualrun.stream_tombstones (
  dataset    text NOT NULL,
  record_key jsonb NOT NULL,
  version    bigint NOT NULL,
  source_ts  timestamptz,
  PRIMARY KEY (dataset, record_key)
);

-- Dead letters are looked up by position when a replay clears them.
CREATE INDEX dead_letters_position ON dualrun.dead_letters (dataset, source, partition, position);
