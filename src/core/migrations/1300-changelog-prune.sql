-- Pruning the trigger changelog (issue 13): what was deleted from dualrun.changelog, per
-- source table, so a reader or a replay that would need pruned rows refuses instead of
-- rebuilding from a partial history. Pruning deletes a prefix of the (tx_id, id) order;
-- `through_*` is its end (the newest position pruned), `newest_ts` the newest capture
-- time among the pruned rows. Written in the same transaction as each deleted batch.
CREATE TABLE dualrun.changelog_pruned (
  source_table text PRIMARY KEY,
  through_tx   bigint NOT NULL,
  through_id   bigint NOT NULL,
  newest_ts    timestamptz NOT NULL,
  rows_pruned  bigint NOT NULL DEFAULT 0,
  pruned_at    timestamptz NOT NULL DEFAULT now()
);
