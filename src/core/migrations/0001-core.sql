-- The toolkit's own tables. Later migrations extend them; numbers 0100-0199 belong
-- to legacy-batch, 0200-0299 to streaming, 0300-0399 to reconcile, 0400-0499 to cutover.

-- Which stage each dataset is in (the cutover flag). `version` is for optimistic concurrency.
CREATE TABLE dualrun.stages (
  dataset    text PRIMARY KEY,
  stage      text NOT NULL DEFAULT 'batch' CHECK (stage IN ('batch', 'shadow', 'streaming', 'streaming-only')),
  version    integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Append-only record of every stage change.
CREATE TABLE dualrun.cutover_audit (
  id         bigserial PRIMARY KEY,
  dataset    text NOT NULL,
  from_stage text NOT NULL,
  to_stage   text NOT NULL,
  action     text NOT NULL CHECK (action IN ('promote', 'rollback', 'init')),
  actor      text NOT NULL,
  reason     text NOT NULL,
  forced     boolean NOT NULL DEFAULT false,
  evidence   bigint[] NOT NULL DEFAULT '{}',
  gate       jsonb,
  serving    text,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cutover_audit_dataset ON dualrun.cutover_audit (dataset, id);

CREATE FUNCTION dualrun.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'dualrun.cutover_audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER cutover_audit_append_only BEFORE UPDATE OR DELETE ON dualrun.cutover_audit
  FOR EACH ROW EXECUTE FUNCTION dualrun.refuse_audit_change();
CREATE TRIGGER cutover_audit_no_truncate BEFORE TRUNCATE ON dualrun.cutover_audit
  FOR EACH STATEMENT EXECUTE FUNCTION dualrun.refuse_audit_change();

-- Run ledger of the legacy batch path (managed runs and adopted external jobs).
CREATE TABLE dualrun.batch_runs (
  id            bigserial PRIMARY KEY,
  dataset       text NOT NULL,
  window_start  timestamptz,
  window_end    timestamptz,
  window_label  text,
  mode          text NOT NULL CHECK (mode IN ('managed', 'adopted')),
  status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  rows          bigint,
  snapshot_at   timestamptz,
  error_message text,
  error_code    text,
  error         jsonb,
  trigger       text NOT NULL DEFAULT 'cli',
  host          text,
  pid           integer
);
CREATE INDEX batch_runs_dataset_window ON dualrun.batch_runs (dataset, window_start, id DESC);

-- Exactly-once positions of the streaming path, written in the same transaction as the rows.
CREATE TABLE dualrun.stream_positions (
  dataset    text NOT NULL,
  source     text NOT NULL,
  partition  integer NOT NULL,
  position   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset, source, partition)
);

-- Per-dataset watermark: the newest source event time applied.
CREATE TABLE dualrun.watermarks (
  dataset      text PRIMARY KEY,
  event_time   timestamptz,
  position     text,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Records that failed decoding, validation or transform.
CREATE TABLE dualrun.dead_letters (
  id         bigserial PRIMARY KEY,
  dataset    text NOT NULL,
  source     text NOT NULL,
  partition  integer NOT NULL,
  position   bigint NOT NULL,
  record_key text,
  payload    bytea,
  stage      text NOT NULL CHECK (stage IN ('decode', 'validate', 'transform', 'apply')),
  reason     text NOT NULL,
  error      jsonb,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_dataset ON dualrun.dead_letters (dataset, id);

-- Keyed state of stateful transforms, committed with the rows and positions.
CREATE TABLE dualrun.keyed_state (
  dataset    text NOT NULL,
  state_key  text NOT NULL,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset, state_key)
);

-- Built-in change capture: the Postgres changelog transport.
CREATE TABLE dualrun.changelog (
  id           bigserial PRIMARY KEY,
  source_table text NOT NULL,
  op           char(1) NOT NULL CHECK (op IN ('c', 'u', 'd', 'r')),
  before       jsonb,
  after        jsonb,
  tx_id        bigint NOT NULL DEFAULT txid_current(),
  ts           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX changelog_source ON dualrun.changelog (source_table, id);

-- Reconciliation results with history (the cutover gate's evidence).
CREATE TABLE dualrun.reconciliations (
  id                bigserial PRIMARY KEY,
  dataset           text NOT NULL,
  window_start      timestamptz,
  window_end        timestamptz,
  window_label      text,
  verdict           text NOT NULL CHECK (verdict IN ('match', 'mismatch', 'pending')),
  stage             text,
  batch_rows        bigint,
  batch_checksum    text,
  stream_rows       bigint,
  stream_checksum   text,
  missing_in_stream bigint NOT NULL DEFAULT 0,
  missing_in_batch  bigint NOT NULL DEFAULT 0,
  changed           bigint NOT NULL DEFAULT 0,
  duplicate_keys    bigint NOT NULL DEFAULT 0,
  in_flight         bigint NOT NULL DEFAULT 0,
  result            jsonb NOT NULL,
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL DEFAULT now(),
  duration_ms       integer
);
CREATE INDEX reconciliations_dataset ON dualrun.reconciliations (dataset, finished_at DESC);
