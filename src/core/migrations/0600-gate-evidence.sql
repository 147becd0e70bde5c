-- Evidence that cannot lie (docs/cutover.md, "Gate rules"): what the promotion
-- gate needs beyond verdicts. h3's range is 0600-0699.

-- The dataset definition (fingerprint of transform/query/schema files and of the
-- config that shapes either output) each reconciliation judged.
ALTER TABLE dualrun.reconciliations ADD COLUMN IF NOT EXISTS definition text;

-- Every definition a dataset has had, appended when dualrun first sees it change
-- (at batch runs, reconciliations, stream starts and promotions).
CREATE TABLE IF NOT EXISTS dualrun.dataset_definitions (
  id          bigserial PRIMARY KEY,
  dataset     text NOT NULL,
  fingerprint text NOT NULL,
  parts       jsonb NOT NULL,
  seen_by     text NOT NULL,
  seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dataset_definitions_dataset ON dualrun.dataset_definitions (dataset, id DESC);

-- Reconciliations that could not run. Never evidence; they break a streak like a mismatch.
CREATE TABLE IF NOT EXISTS dualrun.reconcile_errors (
  id           bigserial PRIMARY KEY,
  dataset      text NOT NULL,
  window_start timestamptz,
  window_end   timestamptz,
  window_label text,
  stage        text,
  code         text NOT NULL,
  message      text NOT NULL,
  error        jsonb NOT NULL,
  definition   text,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reconcile_errors_dataset ON dualrun.reconcile_errors (dataset, at DESC);

-- Every promotion decision, refused ones included (a refusal changes no stage, so
-- the audit never sees it): for the nightly report and for alerts.
CREATE TABLE IF NOT EXISTS dualrun.gate_decisions (
  id         bigserial PRIMARY KEY,
  dataset    text NOT NULL,
  from_stage text NOT NULL,
  to_stage   text NOT NULL,
  outcome    text NOT NULL CHECK (outcome IN ('granted', 'refused', 'forced')),
  actor      text NOT NULL,
  reason     text NOT NULL,
  why        text[] NOT NULL DEFAULT '{}',
  evidence   bigint[] NOT NULL DEFAULT '{}',
  gate       jsonb NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gate_decisions_dataset ON dualrun.gate_decisions (dataset, id DESC);

-- A load of a window that had not ended (+ settle) is `partial`: never complete
-- for the scheduler, never settled for the reconciler, never evidence.
ALTER TABLE dualrun.batch_runs DROP CONSTRAINT IF EXISTS batch_runs_status_check;
ALTER TABLE dualrun.batch_runs ADD CONSTRAINT batch_runs_status_check
  CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'abandoned'));
