/**
 * Refuses to compare an output with itself. A stream output that is the batch output
 * (the same table reached through another connection string), or a view or
 * materialized view built on it, or its inheritance parent (or partitioned parent:
 * `FROM parent` reads the children's rows), matches by construction: such a verdict is
 * no evidence, so the reconciliation fails naming why (an error breaks the gate's streak).
 * So do two outputs one of which stores nothing the other does not read: two views over
 * one table (`SELECT * FROM t` and `SELECT id, v FROM t`) compare that table with itself.
 * Foreign tables (postgres_fdw) are not followed; each counts as a table of its own.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';

interface Facts { server: string; oid: string | null; reads: string[]; view: boolean; tables: string[]; tableNames: string[] }

/**
 * Which server and database, the table's oid, whether it is a view, and every relation it
 * reads, recursively: what a view's query reads, and an inheritance parent's (or partitioned
 * table's) children.
 */
async function facts(pool: Pool, table: string): Promise<Facts> {
  const r = await pool.query<Facts>(
    `WITH RECURSIVE edges(reader, rel) AS (
       SELECT w.ev_class, d.refobjid FROM pg_rewrite w
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> w.ev_class
       UNION ALL
       SELECT h.inhparent, h.inhrelid FROM pg_inherits h),
     reads(oid) AS (
       SELECT to_regclass($1)::oid
       UNION
       SELECT e.rel FROM reads JOIN edges e ON e.reader = reads.oid)
     SELECT concat_ws(' ', inet_server_port(), pg_postmaster_start_time(), current_database()) AS server,
            to_regclass($1)::oid::text AS oid,
            coalesce((SELECT c.relkind IN ('v', 'm') FROM pg_class c WHERE c.oid = to_regclass($1)), false) AS view,
            coalesce((SELECT array_agg(oid::text) FROM reads WHERE oid IS NOT NULL), '{}') AS reads,
            coalesce((SELECT array_agg(c.oid::text ORDER BY c.oid) FROM reads JOIN pg_class c ON c.oid = reads.oid WHERE c.relkind IN ('r', 'f')), '{}') AS tables,
            coalesce((SELECT array_agg(c.oid::regclass::text ORDER BY c.oid) FROM reads JOIN pg_class c ON c.oid = reads.oid WHERE c.relkind IN ('r', 'f')), '{}') AS "tableNames"`, [table]);
  return r.rows[0];
}

/** How `reader` reads the other output, for the error: through its view's query or as its child. */
function readsHow(reader: Facts): string {
  return reader.view ? 'is a view that reads' : 'reads';
}

/**
 * Where every table (with storage) one output reads is read by the other too, no row of it
 * was written apart from the other side's: the verdict would compare shared rows.
 */
function sharedTables(ds: DatasetConfig, b: Facts, s: Facts): string | null {
  const covered = (x: Facts, y: Facts) => x.tables.length > 0 && x.tables.every((t) => y.tables.includes(t));
  const names = (x: Facts) => x.tableNames.join(', ');
  if (covered(s, b)) return `the stream output ${ds.stream.output.text} reads only tables the batch output ${ds.batch.output.text} reads too (${names(s)})`;
  if (covered(b, s)) return `the batch output ${ds.batch.output.text} reads only tables the stream output ${ds.stream.output.text} reads too (${names(b)})`;
  return null;
}

export async function assertDistinctOutputs(ds: DatasetConfig, batchPool: Pool, streamPool: Pool): Promise<void> {
  const [b, s] = await Promise.all([facts(batchPool, ds.batch.output.sql), facts(streamPool, ds.stream.output.sql)]);
  if (b.server !== s.server || !b.oid || !s.oid) return;
  const why = b.oid === s.oid ? `${ds.stream.output.text} is the batch output ${ds.batch.output.text} (the same table)`
    : s.reads.includes(b.oid) ? `the stream output ${ds.stream.output.text} ${readsHow(s)} the batch output ${ds.batch.output.text}${s.view ? '' : ' (its inheritance child or partition)'}`
      : b.reads.includes(s.oid) ? `the batch output ${ds.batch.output.text} ${readsHow(b)} the stream output ${ds.stream.output.text}${b.view ? '' : ' (its inheritance child or partition)'}`
        : sharedTables(ds, b, s);
  if (why) throw new DualrunError('DUALRUN_RECONCILE_FAILED', `${ds.name}: ${why}; comparing an output with itself matches by construction and is no evidence`, { details: { dataset: ds.name } });
}
