-- Change capture from the write-ahead log (issue 13): one logical replication slot and
-- one publication per dataset, named by dualrun (streaming/capture/logical-slot.ts).
CREATE TABLE dualrun.logical_captures (
  dataset        text PRIMARY KEY,
  source_table   text NOT NULL,
  slot           text NOT NULL,
  publication    text NOT NULL,
  snapshot_rows  bigint NOT NULL DEFAULT 0,
  -- The first snapshot is complete (it is taken after the slot exists, see logical-slot.ts).
  snapshot_done  boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- The rows the source table held when capture began, delivered with version 0 in id order.
CREATE TABLE dualrun.capture_snapshots (
  dataset  text NOT NULL,
  id       bigserial,
  row      jsonb NOT NULL,
  PRIMARY KEY (dataset, id)
);
