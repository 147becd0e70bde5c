/**
 * For a table a config names that does not exist: the nearest existing one, as ` (did you mean
 * analytics.orders_batch?)`, or a same-letters name in another case (caseHint), else ''. A typo in
 * an output name is a config mistake, and the hint says which table was probably meant.
 */
import type { Pool, PoolClient } from './connect.ts';
import type { TableRef } from '../identifiers.ts';
import { caseHint } from './table-catalog.ts';
import { didYouMean } from '../nearest-name.ts';

export async function missingTableHint(db: Pool | PoolClient, table: TableRef): Promise<string> {
  const sameLetters = await caseHint(db, table);
  if (sameLetters) return sameLetters;
  const r = await db.query<{ name: string }>(
    `SELECT n.nspname::text || '.' || c.relname::text AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dualrun') AND n.nspname NOT LIKE 'pg\\_%'`);
  return didYouMean(table.text, r.rows.map((x) => x.name));
}
