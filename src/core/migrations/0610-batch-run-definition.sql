-- Which batch query and batch transform each managed batch run executed (the parts of
-- the dataset definition that produce the batch output): the gate counts a window only
-- while its batch load ran the current ones (docs/cutover.md, rule 4.4, batch-definition).
ALTER TABLE dualrun.batch_runs ADD COLUMN IF NOT EXISTS definition jsonb;
