-- Dead-letter tooling and the nightly report's story (issue 14, docs/dead-letters.md).

-- What a retry needs to rebuild the source record exactly (the payload alone is not
-- enough: a Kafka tombstone is named by its message key, and the record time is the
-- fallback source time), and where each dead letter stands.
ALTER TABLE dualrun.dead_letters
  ADD COLUMN message_key bytea,
  ADD COLUMN record_ts timestamptz,
  ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'retried', 'discarded')),
  -- When it left `open`, by whom, and (discard) why.
  ADD COLUMN resolved_at timestamptz,
  ADD COLUMN resolved_by text,
  ADD COLUMN resolution text,
  -- Retries that failed again (the stage and reason above are then the newest failure's).
  ADD COLUMN retries integer NOT NULL DEFAULT 0,
  ADD COLUMN last_retry_at timestamptz;

CREATE INDEX dead_letters_open ON dualrun.dead_letters (dataset, at) WHERE status = 'open';
-- The reconciler asks whether a key missing in the stream has a dead letter.
CREATE INDEX dead_letters_key ON dualrun.dead_letters (dataset, record_key);

-- Append-only record of what people did with dead letters: every retry outcome and
-- every discard, with actor and reason.
CREATE TABLE dualrun.dead_letter_actions (
  id             bigserial PRIMARY KEY,
  dead_letter_id bigint NOT NULL,
  dataset        text NOT NULL,
  action         text NOT NULL CHECK (action IN ('retried', 'failed_again', 'discarded')),
  actor          text NOT NULL CHECK (btrim(actor) <> ''),
  reason         text,
  detail         jsonb,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letter_actions_dataset ON dualrun.dead_letter_actions (dataset, at);
CREATE INDEX dead_letter_actions_letter ON dualrun.dead_letter_actions (dead_letter_id);

CREATE FUNCTION dualrun.refuse_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER dead_letter_actions_append_only BEFORE UPDATE OR DELETE ON dualrun.dead_letter_actions
  FOR EACH ROW EXECUTE FUNCTION dualrun.refuse_record_change();
