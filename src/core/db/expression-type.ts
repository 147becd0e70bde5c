/**
 * Plans a SQL expression from config over one table and returns its result
 * type, without running it: `SELECT (expr) AS v FROM table LIMIT 0` as ONE
 * statement over the extended protocol (which refuses a second statement), in
 * a READ ONLY transaction, with the expression on lines of its own so a `--`
 * comment cannot eat the rest of the statement. The expression must yield
 * exactly one column. Results over exceptions: a refusal says why.
 */
import { CATALOG_FIRST_SQL, type Pool } from './connect.ts';
import type { TableRef } from '../identifiers.ts';

/** `type`: base type name (domains resolved); `oid`/`typmod`: the result field's, for a full type description. */
export type PlannedExpression = { ok: true; type: string; oid: number; typmod: number } | { ok: false; why: string };

/** How an expression is embedded in SQL: exactly as it was planned. */
export function embedExpression(expr: string): string {
  return `(\n${expr}\n)`;
}

/** Why `expr` cannot be embedded as one expression before it is even planned (a ';' ends a statement), or null. */
export function notOneExpression(expr: string): string | null {
  return expr.includes(';') ? `${JSON.stringify(expr)} is not a single SQL expression (no ';')` : null;
}

export async function planExpression(pool: Pool, table: TableRef, expr: string): Promise<PlannedExpression> {
  const why = notOneExpression(expr);
  if (why) return { ok: false, why };
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    // The reconciler reads it with pg_catalog first on the path: planned the same way.
    await client.query(CATALOG_FIRST_SQL);
    let res;
    try {
      res = await client.query({ text: `SELECT ${embedExpression(expr)} AS v FROM ${table.sql} LIMIT 0`, queryMode: 'extended' } as { text: string });
    } catch (e) {
      return { ok: false, why: `Postgres rejects ${JSON.stringify(expr)} on ${table.text}: ${(e as Error).message}` };
    }
    if (res.fields.length !== 1 || res.fields[0].name !== 'v') return { ok: false, why: `${JSON.stringify(expr)} is not a single SQL expression` };
    const t = await client.query<{ type: string }>(
      `SELECT coalesce(bt.typname, t.typname)::text AS type FROM pg_type t
         LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype WHERE t.oid = $1`, [res.fields[0].dataTypeID]);
    const type = t.rows[0]?.type;
    return type ? { ok: true, type, oid: res.fields[0].dataTypeID, typmod: res.fields[0].dataTypeModifier } : { ok: false, why: `Postgres reports an unknown type for ${JSON.stringify(expr)}` };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
