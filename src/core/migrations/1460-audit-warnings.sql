-- What a stage change warned about, kept with it in the append-only audit: a rollback
-- onto a batch output that misses the windows due while the batch path was retired, or
-- one that locks readers of a security_invoker serving view out (docs/cutover.md, Audit).
ALTER TABLE dualrun.cutover_audit ADD COLUMN IF NOT EXISTS warnings text[] NOT NULL DEFAULT '{}';
