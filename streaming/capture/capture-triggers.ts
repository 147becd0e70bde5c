/**
 * Built-in change capture: an AFTER ROW trigger on the source table writes every
 * insert, update and delete into `dualrun.changelog` (op c/u/d, before/after as
 * jsonb) in the writer's own transaction, so a change is captured if and only if
 * it commits. Installing it the first time also snapshots the rows already there
 * (op `r`), under a lock that keeps writers out for that moment, so the log
 * describes the whole table: snapshot, then every change.
 */
import type { Pool, PoolClient } from '../../src/core/db/connect.ts';
import { inTransaction } from '../../src/core/db/connect.ts';
import { DualrunError } from '../../src/core/errors.ts';
import { quoteLiteral, type TableRef } from '../../src/core/identifiers.ts';

const TRIGGER = 'dualrun_capture';

/**
 * The trigger runs in the writer's session: the legacy application's role, with its settings.
 *  - SECURITY DEFINER (owned by the role that installed capture), with pg_catalog first on its
 *    path: a writer needs no privilege on the dualrun schema (without it, installing capture made
 *    every write of an application role fail with "permission denied for schema dualrun");
 *  - to_jsonb prints floats, intervals and bytea by the writer's extra_float_digits,
 *    IntervalStyle and bytea_output (0 dropped float digits; sql_standard's '-1 2:00:00' reads
 *    back as another interval): under other settings than the defaults the row is converted by
 *    dualrun.capture_json, whose own SET clauses fix them for the call only. Those SET clauses
 *    cost every call (about a fifth more per captured row), so the common case skips them.
 */
const FUNCTION = `
CREATE OR REPLACE FUNCTION dualrun.capture_json(r anyelement) RETURNS jsonb LANGUAGE sql STABLE
  SET extra_float_digits = 3 SET IntervalStyle = postgres SET bytea_output = hex
  AS 'SELECT pg_catalog.to_jsonb(r)';
CREATE OR REPLACE FUNCTION dualrun.capture_change() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  -- The captured table's name, given when the trigger was created: on a partitioned table the
  -- trigger fires on the partition, whose name TG_TABLE_NAME holds (orders_2026, not orders).
  source text := coalesce(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  plain boolean := current_setting('extra_float_digits')::int >= 1 AND current_setting('IntervalStyle') = 'postgres'
                   AND current_setting('bytea_output') = 'hex';
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO dualrun.changelog (source_table, op, after) VALUES (source, 'c',
      CASE WHEN plain THEN to_jsonb(NEW) ELSE dualrun.capture_json(NEW) END);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO dualrun.changelog (source_table, op, before, after) VALUES (source, 'u',
      CASE WHEN plain THEN to_jsonb(OLD) ELSE dualrun.capture_json(OLD) END, CASE WHEN plain THEN to_jsonb(NEW) ELSE dualrun.capture_json(NEW) END);
  ELSE
    INSERT INTO dualrun.changelog (source_table, op, before) VALUES (source, 'd',
      CASE WHEN plain THEN to_jsonb(OLD) ELSE dualrun.capture_json(OLD) END);
  END IF;
  RETURN NULL;
END $$`;

/**
 * Creates the trigger function, or replaces one of an earlier version (not SECURITY DEFINER,
 * no capture_json), so tables captured before get the current one too. Left alone when current:
 * replacing needs the function's owner, and another role may run capture later.
 */
async function installFunction(c: PoolClient): Promise<void> {
  const r = await c.query<{ current: boolean | null }>(
    `SELECT p.prosecdef AND to_regprocedure('dualrun.capture_json(anyelement)') IS NOT NULL AS current
       FROM pg_proc p WHERE p.oid = to_regprocedure('dualrun.capture_change()')`);
  if (r.rows[0]?.current) return;
  // One replacement at a time (two captures starting at once would collide on the catalog row).
  await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('dualrun.capture_change()', 0))`);
  await c.query(FUNCTION);
}

/**
 * A row trigger on an inheritance parent fires for the parent's own rows only: the children's
 * changes would never be captured, while a SELECT from the parent (the snapshot, the batch
 * query, the reconciler) reads them. Refused, naming them. (Partitions are fine: the trigger is
 * cloned onto every partition, present and future.)
 */
async function refuseInheritanceChildren(c: PoolClient, table: TableRef): Promise<void> {
  const r = await c.query<{ child: string }>(
    `SELECT i.inhrelid::regclass::text AS child FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
      WHERE i.inhparent = $1::regclass AND p.relkind = 'r' ORDER BY 1 LIMIT 5`, [table.sql]);
  if (r.rows.length === 0) return;
  throw new DualrunError('DUALRUN_CONFIG_INVALID',
    `stream.source.table ${table.text} has inheritance children (${r.rows.map((x) => x.child).join(', ')}): trigger capture would miss their changes, while reading ${table.text} includes their rows; capture each child table as a dataset of its own, or make ${table.text} a partitioned table`,
    { details: { table: table.text, children: r.rows.map((x) => x.child) } });
}

export interface CaptureInstall { table: string; installed: boolean; snapshotRows: number }

/** Idempotent: a table that already has the trigger is left as it is (no second snapshot). */
export async function installCapture(db: Pool, table: TableRef): Promise<CaptureInstall> {
  return inTransaction(db, async (c) => {
    const exists = await c.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [table.sql]);
    if (!exists.rows[0].oid) throw new DualrunError('DUALRUN_CONFIG_INVALID', `stream.source.table ${table.text} does not exist in the toolkit database`);
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`dualrun.capture/${table.text}`]);
    await installFunction(c);
    const has = await c.query('SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2', [table.sql, TRIGGER]);
    if (has.rowCount) return { table: table.text, installed: false, snapshotRows: 0 };
    await refuseInheritanceChildren(c, table);
    // The snapshot rows are printed in this session: the same exact forms as the trigger's.
    await c.query(`SELECT set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)`);
    // SHARE ROW EXCLUSIVE: readers go on, writers wait until trigger and snapshot are committed.
    await c.query(`LOCK TABLE ${table.sql} IN SHARE ROW EXCLUSIVE MODE`);
    await c.query(`CREATE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${table.sql} FOR EACH ROW EXECUTE FUNCTION dualrun.capture_change(${quoteLiteral(table.text)})`);
    // ALWAYS: also under session_replication_role = replica, which bulk loaders set to skip
    // triggers and which Postgres's own logical replication applies with (a subscriber table's
    // changes would never be captured).
    await c.query(`ALTER TABLE ${table.sql} ENABLE ALWAYS TRIGGER ${TRIGGER}`);
    // t.*, not t: a column named t would be taken for the row (its value snapshotted instead of the row).
    const snap = await c.query(`INSERT INTO dualrun.changelog (source_table, op, after) SELECT $1, 'r', to_jsonb(t.*) FROM ${table.sql} t`, [table.text]);
    return { table: table.text, installed: true, snapshotRows: snap.rowCount ?? 0 };
  });
}
