-- Windows a batch fire handled but could not settle: an adopted window whose external job had
-- not finished (`waiting`), a load or adoption that failed (`failed`), or one the fire was to
-- handle and did not get to (`due`: written before it starts, so a fire that throws, is stopped
-- or killed half-way loses none of its windows). Later fires handle them
-- again within their lookback; any succeeded run of the window removes its row. Before, only
-- the fire whose window it was handled it, so such a window was never adopted or retried
-- (docs/batch.md, "Open windows").
CREATE TABLE IF NOT EXISTS dualrun.batch_open_windows (
  dataset       text NOT NULL,
  window_label  text NOT NULL,
  window_start  timestamptz NOT NULL,
  window_end    timestamptz NOT NULL,
  state         text NOT NULL CHECK (state IN ('due', 'waiting', 'failed')),
  attempts      integer NOT NULL DEFAULT 1,   -- fires in a row that left it in this state (`due`: 0)
  first_fire_at timestamptz NOT NULL,
  last_fire_at  timestamptz NOT NULL,
  detail        text,
  PRIMARY KEY (dataset, window_label)
);
