/**
 * `reconcile.expressions`: per-side SQL standing in for a compared column (e.g.
 * `amount_cents / 100.0` on the batch side against `amount` on the stream side).
 * An expression is config text, so before any use Postgres plans it on its own
 * side's table: one statement over the extended protocol (which refuses a
 * second statement), in a READ ONLY transaction, with `LIMIT 0` so nothing is
 * evaluated, and the expression on its own lines so a `--` comment cannot eat
 * the rest of the statement. The result type Postgres reports becomes the
 * column's type, so the canonical encoding treats it like a stored column.
 */
import { DualrunError } from '../src/errors.ts';
import type { Pool } from '../src/db/connect.ts';
import type { DatasetConfig } from '../src/config/types.ts';
import type { TableRef } from '../src/identifiers.ts';
import type { Runtime } from '../src/runtime.ts';
import type { ColumnInfo } from './table-columns.ts';
import type { SideExpressions } from './compared-columns.ts';

export async function sideExpressions(rt: Runtime, ds: DatasetConfig, batchPool: Pool, streamPool: Pool): Promise<SideExpressions> {
  const out = { batch: new Map<string, ColumnInfo>(), stream: new Map<string, ColumnInfo>() };
  for (const [col, e] of Object.entries(ds.reconcile.expressions)) {
    for (const side of ['batch', 'stream'] as const) {
      const expr = e[side];
      if (expr === undefined) continue;
      const where = `datasets.${ds.name}.reconcile.expressions.${col}.${side}`;
      const table = side === 'batch' ? ds.batch.output : ds.stream.output;
      const type = await expressionType(side === 'batch' ? batchPool : streamPool, table, expr, where, rt.config.path);
      out[side].set(col, { name: col, type, expression: expr, logical: col });
    }
  }
  return out;
}

/** Plans `expr` over `table` and returns its base type name; a config error naming `where` when Postgres refuses it. */
export async function expressionType(pool: Pool, table: TableRef, expr: string, where: string, file: string | null): Promise<string> {
  const fail = (why: string, cause?: unknown): never => {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `invalid config ${file ?? '(built-in config)'}: ${where}: ${why}`, { cause, details: { config: file, path: where } });
  };
  if (expr.includes(';')) fail(`${JSON.stringify(expr)} is not a single SQL expression (no ';')`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    let res;
    try {
      res = await client.query({ text: `SELECT (\n${expr}\n) AS v FROM ${table.sql} LIMIT 0`, queryMode: 'extended' } as { text: string });
    } catch (e) {
      fail(`Postgres rejects ${JSON.stringify(expr)} on ${table.text}: ${(e as Error).message}`, e);
    }
    if (res!.fields.length !== 1 || res!.fields[0].name !== 'v') fail(`${JSON.stringify(expr)} is not a single SQL expression`);
    const t = await client.query<{ type: string }>(
      `SELECT coalesce(bt.typname, t.typname)::text AS type FROM pg_type t
         LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype WHERE t.oid = $1`, [res!.fields[0].dataTypeID]);
    return t.rows[0]?.type ?? fail(`Postgres reports an unknown type for ${JSON.stringify(expr)}`);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
