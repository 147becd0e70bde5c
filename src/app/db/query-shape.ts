/**
 * The columns a managed batch query produces, with their exact types, as
 * Postgres reports them for `SELECT * FROM (query) LIMIT 0`: planned, never
 * run, in a READ ONLY transaction. What a batch output must hold is what its
 * query selects (a computed `now() AS loaded_at` included), not the source's.
 */
import fs from 'node:fs';
import type { Pool } from '../../core/db/connect.ts';
import type { CatalogColumn } from '../../core/db/table-catalog.ts';
import { rewriteNamedParams } from '../../../legacy-batch/named-params.ts';

export async function queryColumns(pool: Pool, queryFile: string): Promise<CatalogColumn[]> {
  const { text, names } = rewriteNamedParams(fs.readFileSync(queryFile, 'utf8').replace(/[\s;]+$/u, ''), ['window_start', 'window_end']);
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    const r = await client.query({ text: `SELECT * FROM (\n${text}\n) AS q LIMIT 0`, values: names.map(() => '2000-01-01T00:00:00Z') });
    const types = await client.query<CatalogColumn & { i: number }>(
      `SELECT f.i, format_type(f.oid, nullif(f.mod, -1)) AS type, coalesce(bt.typname, t.typname)::text AS base,
              coalesce(bt.typcategory, t.typcategory)::text AS category, false AS "notNull"
         FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS f(oid, mod, i)
         JOIN pg_type t ON t.oid = f.oid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
        ORDER BY f.i`, [r.fields.map((f) => f.dataTypeID), r.fields.map((f) => f.dataTypeModifier)]);
    return r.fields.map((f, i) => ({ ...types.rows[i], name: f.name }));
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
