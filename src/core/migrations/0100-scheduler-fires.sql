-- Fires of `dualrun schedule` jobs, one row per (job, scheduled fire time). The first
-- scheduler to insert the row runs the job; any other scheduler (even one firing
-- later, after the first released its advisory lock) finds the row and skips.
CREATE TABLE dualrun.scheduler_fires (
  job          text NOT NULL,
  fire_at      timestamptz NOT NULL,
  claimed_by   text NOT NULL,
  claimed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at  timestamptz,
  outcome      text CHECK (outcome IN ('succeeded', 'failed', 'skipped', 'abandoned')),
  detail       text,
  PRIMARY KEY (job, fire_at)
);
