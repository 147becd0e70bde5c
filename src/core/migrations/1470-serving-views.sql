-- Which serving views (cutover.serve) dualrun created, by oid. dualrun knew its views by a
-- comment starting "managed by dualrun", so a user's own COMMENT ON VIEW made the next flip
-- refuse the view, and every flip overwrote the comment. Views made before this table still
-- carry that comment and are recorded at their next flip (docs/cutover.md, "The serving view").
CREATE TABLE IF NOT EXISTS dualrun.serving_views (
  view_name text PRIMARY KEY,          -- cutover.serve as quoted SQL ("analytics"."orders")
  view_oid oid NOT NULL,
  dataset text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
