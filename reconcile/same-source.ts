/**
 * Refuses to compare an output with itself. A stream output that is the batch output
 * (the same table reached through another connection string), or a view or
 * materialized view built on it, or its inheritance parent (or partitioned parent:
 * `FROM parent` reads the children's rows), matches by construction: such a verdict is
 * no evidence, so the reconciliation fails naming why (an error breaks the gate's streak).
 * So do two outputs one of which stores nothing the other does not read: two views over
 * one table (`SELECT * FROM t` and `SELECT id, v FROM t`) compare that table with itself.
 * Functions are followed where Postgres records what they read (SQL `BEGIN ATOMIC` bodies); an
 * output whose rows come only through set-returning functions it does not record is refused, naming them.
 * Foreign tables (postgres_fdw) are not followed; each counts as a table of its own.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';

interface Facts { server: string; oid: string | null; reads: string[]; view: boolean; tables: string[]; tableNames: string[]; opaque: string[] }

/**
 * Which server and database, the table's oid, whether it is a view, and every relation it
 * reads, recursively: what a view's query reads, an inheritance parent's (or partitioned
 * table's) children, and what a function the query calls reads when Postgres knows it (a SQL
 * function with a `BEGIN ATOMIC` body records its tables in pg_depend, as a view does).
 * `opaque`: set-returning functions outside the system schemas whose body Postgres has not
 * parsed (PL/pgSQL, a SQL string body, C): rows come through them from tables nobody records.
 */
async function facts(pool: Pool, table: string): Promise<Facts> {
  const r = await pool.query<Facts>(
    `WITH RECURSIVE edges(rc, reader, refc, rel) AS (
       SELECT 'pg_class'::regclass::oid, w.ev_class, d.refclassid, d.refobjid FROM pg_rewrite w
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
          AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass)
          AND NOT (d.refclassid = 'pg_class'::regclass AND d.refobjid = w.ev_class)
       UNION ALL
       SELECT 'pg_class'::regclass::oid, h.inhparent, 'pg_class'::regclass::oid, h.inhrelid FROM pg_inherits h
       UNION ALL
       SELECT 'pg_proc'::regclass::oid, d.objid, d.refclassid, d.refobjid FROM pg_depend d
        WHERE d.classid = 'pg_proc'::regclass AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass)
          AND NOT (d.refclassid = 'pg_proc'::regclass AND d.refobjid = d.objid)),
     reads(c, oid) AS (
       SELECT 'pg_class'::regclass::oid, to_regclass($1)::oid
       UNION
       SELECT e.refc, e.rel FROM reads JOIN edges e ON e.rc = reads.c AND e.reader = reads.oid),
     rels AS (SELECT oid FROM reads WHERE c = 'pg_class'::regclass AND oid IS NOT NULL)
     -- The server by its port setting: inet_server_port() is NULL on a Unix-socket connection, and one
     -- table reached over a socket and over TCP looked like two servers' (never checked: a match).
     SELECT concat_ws(' ', current_setting('port'), pg_postmaster_start_time(), current_database()) AS server,
            to_regclass($1)::oid::text AS oid,
            coalesce((SELECT c.relkind IN ('v', 'm') FROM pg_class c WHERE c.oid = to_regclass($1)), false) AS view,
            coalesce((SELECT array_agg(oid::text) FROM rels), '{}') AS reads,
            coalesce((SELECT array_agg(c.oid::text ORDER BY c.oid) FROM rels JOIN pg_class c ON c.oid = rels.oid WHERE c.relkind IN ('r', 'f')), '{}') AS tables,
            coalesce((SELECT array_agg(c.oid::regclass::text ORDER BY c.oid) FROM rels JOIN pg_class c ON c.oid = rels.oid WHERE c.relkind IN ('r', 'f')), '{}') AS "tableNames",
            coalesce((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid) FROM reads JOIN pg_proc p ON reads.c = 'pg_proc'::regclass AND p.oid = reads.oid
                       WHERE p.proretset AND (to_jsonb(p) ->> 'prosqlbody') IS NULL
                         AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)), '{}') AS opaque`, [table]);
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

/**
 * Rows that come only through functions whose tables Postgres does not record could be the other
 * side's rows: nothing tells, so no verdict (a view over `f()` reading the batch output matched).
 * An output reading a table of its own may still call such a function on its rows (PostGIS's
 * `ST_Dump(geom)`, an unnest of its own): compared.
 */
function opaqueRows(ds: DatasetConfig, b: Facts, s: Facts): string | null {
  const why = (side: string, out: string, x: Facts) =>
    `the ${side} output ${out} reads rows through ${x.opaque.join(', ')}, a set-returning function whose tables Postgres does not record (PL/pgSQL, a SQL string body, C), so whether it reads the other output cannot be told; make it a SQL function with a BEGIN ATOMIC body, or a view, or point ${side}.output at a table`;
  const onlyOpaque = (x: Facts) => x.opaque.length > 0 && x.tables.length === 0;
  if (onlyOpaque(s)) return why('stream', ds.stream.output.text, s);
  if (onlyOpaque(b)) return why('batch', ds.batch.output.text, b);
  return null;
}

export async function assertDistinctOutputs(ds: DatasetConfig, batchPool: Pool, streamPool: Pool): Promise<void> {
  const [b, s] = await Promise.all([facts(batchPool, ds.batch.output.sql), facts(streamPool, ds.stream.output.sql)]);
  if (b.server !== s.server || !b.oid || !s.oid) return;
  const why = b.oid === s.oid ? `${ds.stream.output.text} is the batch output ${ds.batch.output.text} (the same table)`
    : s.reads.includes(b.oid) ? `the stream output ${ds.stream.output.text} ${readsHow(s)} the batch output ${ds.batch.output.text}${s.view ? '' : ' (its inheritance child or partition)'}`
      : b.reads.includes(s.oid) ? `the batch output ${ds.batch.output.text} ${readsHow(b)} the stream output ${ds.stream.output.text}${b.view ? '' : ' (its inheritance child or partition)'}`
        : sharedTables(ds, b, s) ?? opaqueRows(ds, b, s);
  if (why) throw new DualrunError('DUALRUN_RECONCILE_FAILED', `${ds.name}: ${why}; comparing an output with itself matches by construction and is no evidence`, { details: { dataset: ds.name } });
}
