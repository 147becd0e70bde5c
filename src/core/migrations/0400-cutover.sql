-- Cutover flags (docs/cutover.md). The audit stays append-only (0001's triggers);
-- these only add what the audit must always say.

-- Which stage-row version the change produced, so an audit row ties to exactly one change.
ALTER TABLE dualrun.cutover_audit ADD COLUMN stage_version integer;

-- A change without a reason or an actor is not an audit record.
ALTER TABLE dualrun.cutover_audit ADD CONSTRAINT cutover_audit_reason_given CHECK (btrim(reason) <> '');
ALTER TABLE dualrun.cutover_audit ADD CONSTRAINT cutover_audit_actor_given CHECK (btrim(actor) <> '');

-- The gates read the latest verdict per window of one dataset.
CREATE INDEX reconciliations_dataset_window ON dualrun.reconciliations (dataset, window_start, finished_at DESC);
