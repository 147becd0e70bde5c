/**
 * Built-in change capture: an AFTER ROW trigger on the source table writes every
 * insert, update and delete into `dualrun.changelog` (op c/u/d, before/after as
 * jsonb) in the writer's own transaction, so a change is captured if and only if
 * it commits. Installing it the first time also snapshots the rows already there
 * (op `r`), under a lock that keeps writers out for that moment, so the log
 * describes the whole table: snapshot, then every change.
 */
import type { Pool } from '../../src/core/db/connect.ts';
import { inTransaction } from '../../src/core/db/connect.ts';
import { DualrunError } from '../../src/core/errors.ts';
import type { TableRef } from '../../src/core/identifiers.ts';

const TRIGGER = 'dualrun_capture';

const FUNCTION = `
CREATE OR REPLACE FUNCTION dualrun.capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO dualrun.changelog (source_table, op, after) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'c', to_jsonb(NEW));
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO dualrun.changelog (source_table, op, before, after) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'u', to_jsonb(OLD), to_jsonb(NEW));
  ELSE
    INSERT INTO dualrun.changelog (source_table, op, before) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'd', to_jsonb(OLD));
  END IF;
  RETURN NULL;
END $$`;

export interface CaptureInstall { table: string; installed: boolean; snapshotRows: number }

/** Idempotent: a table that already has the trigger is left as it is (no second snapshot). */
export async function installCapture(db: Pool, table: TableRef): Promise<CaptureInstall> {
  return inTransaction(db, async (c) => {
    const exists = await c.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [table.sql]);
    if (!exists.rows[0].oid) throw new DualrunError('DUALRUN_CONFIG_INVALID', `stream.source.table ${table.text} does not exist in the toolkit database`);
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`dualrun.capture/${table.text}`]);
    const has = await c.query('SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2', [table.sql, TRIGGER]);
    if (has.rowCount) return { table: table.text, installed: false, snapshotRows: 0 };
    await c.query(FUNCTION);
    // SHARE ROW EXCLUSIVE: readers go on, writers wait until trigger and snapshot are committed.
    await c.query(`LOCK TABLE ${table.sql} IN SHARE ROW EXCLUSIVE MODE`);
    await c.query(`CREATE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${table.sql} FOR EACH ROW EXECUTE FUNCTION dualrun.capture_change()`);
    const snap = await c.query(`INSERT INTO dualrun.changelog (source_table, op, after) SELECT $1, 'r', to_jsonb(t) FROM ${table.sql} t`, [table.text]);
    return { table: table.text, installed: true, snapshotRows: snap.rowCount ?? 0 };
  });
}
