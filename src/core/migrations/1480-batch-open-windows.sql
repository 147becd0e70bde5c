-- Windows a batch fire handled but could not settle: an adopted window whose external job had
-- not finished (`waiting`), a load or adoption that failed (`failed`). Later fires handle them
-- again within their lookback; any succeeded run of the window removes its row. Before, only
-- the fire whose window it was handled it, so such a window was never adopted or retried
-- (docs/batch.md, "Open windows").
CREATE TABLE IF NOT EXISTS dualrun.batch_open_windows (
  dataset       text NOT NULL,
  window_label  text NOT NULL,
  window_start  timestamptz NOT NULL,
  window_end    timestamptz NOT NULL,
  state         text NOT NULL CHECK (state IN ('waiting', 'failed')),
  attempts      integer NOT NULL DEFAULT 1,   -- fires that handled it (a shutdown's abandoned fire is none)
  first_fire_at timestamptz NOT NULL,
  last_fire_at  timestamptz NOT NULL,
  detail        text,
  PRIMARY KEY (dataset, window_label)
);
