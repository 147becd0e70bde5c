-- Which stream transform and record schema dualrun's stream worker started with, and
-- from which event time the stream output holds only their rows (covers_from; NULL:
-- all of it, after a replay from the beginning or on the first start recorded). The
-- gate counts a window only when its stream rows come from the code in use now
-- (docs/cutover.md, rule 4.1, stream-definition).
CREATE TABLE IF NOT EXISTS dualrun.stream_starts (
  id          bigserial PRIMARY KEY,
  dataset     text NOT NULL,
  parts       jsonb NOT NULL,
  covers_from timestamptz,
  replay      boolean NOT NULL DEFAULT false,
  started_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS stream_starts_dataset ON dualrun.stream_starts (dataset, id DESC);
