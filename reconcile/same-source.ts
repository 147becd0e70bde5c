/**
 * Refuses to compare an output with itself. A stream output that is the batch output
 * (the same table reached through another connection string), or a view or
 * materialized view built on it, matches by construction: such a verdict is no evidence,
 * so the reconciliation fails naming why (an error breaks the gate's streak).
 * Foreign tables (postgres_fdw) are not followed.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';

interface Facts { server: string; oid: string | null; reads: string[] }

/** Which server and database, the table's oid, and every relation it reads (views, recursively). */
async function facts(pool: Pool, table: string): Promise<Facts> {
  const r = await pool.query<Facts>(
    `WITH RECURSIVE reads(oid) AS (
       SELECT to_regclass($1)::oid
       UNION
       SELECT d.refobjid FROM reads
         JOIN pg_rewrite w ON w.ev_class = reads.oid
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> reads.oid)
     SELECT concat_ws(' ', inet_server_port(), pg_postmaster_start_time(), current_database()) AS server,
            to_regclass($1)::oid::text AS oid,
            coalesce((SELECT array_agg(oid::text) FROM reads WHERE oid IS NOT NULL), '{}') AS reads`, [table]);
  return r.rows[0];
}

export async function assertDistinctOutputs(ds: DatasetConfig, batchPool: Pool, streamPool: Pool): Promise<void> {
  const [b, s] = await Promise.all([facts(batchPool, ds.batch.output.sql), facts(streamPool, ds.stream.output.sql)]);
  if (b.server !== s.server || !b.oid || !s.oid) return;
  const why = b.oid === s.oid ? `${ds.stream.output.text} is the batch output ${ds.batch.output.text} (the same table)`
    : s.reads.includes(b.oid) ? `the stream output ${ds.stream.output.text} is a view that reads the batch output ${ds.batch.output.text}`
      : b.reads.includes(s.oid) ? `the batch output ${ds.batch.output.text} is a view that reads the stream output ${ds.stream.output.text}`
        : null;
  if (why) throw new DualrunError('DUALRUN_RECONCILE_FAILED', `${ds.name}: ${why}; comparing an output with itself matches by construction and is no evidence`, { details: { dataset: ds.name } });
}
