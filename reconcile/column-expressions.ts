/**
 * `reconcile.expressions`: per-side SQL standing in for a compared column (e.g.
 * `amount_cents / 100.0` on the batch side against `amount` on the stream side).
 * An expression is config text, so before any use Postgres plans it on its own
 * side's table (src/core/db/expression-type.ts: one statement, read-only, never
 * run); a refusal is a config error naming its path. The result type Postgres
 * reports becomes the column's type, so the canonical encoding treats it like
 * a stored column of that type.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { planExpression } from '../src/core/db/expression-type.ts';
import { describeType, type ColumnInfo } from './table-columns.ts';
import type { SideExpressions } from './compared-columns.ts';

export async function sideExpressions(rt: Runtime, ds: DatasetConfig, batchPool: Pool, streamPool: Pool): Promise<SideExpressions> {
  const out = { batch: new Map<string, ColumnInfo>(), stream: new Map<string, ColumnInfo>() };
  for (const [col, e] of Object.entries(ds.reconcile.expressions)) {
    for (const side of ['batch', 'stream'] as const) {
      const expr = e[side];
      if (expr === undefined) continue;
      const where = `datasets.${ds.name}.reconcile.expressions.${col}.${side}`;
      const table = side === 'batch' ? ds.batch.output : ds.stream.output;
      const pool = side === 'batch' ? batchPool : streamPool;
      const plan = await planned(pool, table, expr, where, rt.config.path);
      // Described like a stored column of that type, so the codec for the pair is chosen the same way.
      const desc = await describeType(pool, plan.oid, plan.typmod);
      out[side].set(col, { name: col, type: desc.name, desc, expression: expr, logical: col });
    }
  }
  return out;
}

/** The expression's base type name; a config error naming `where` when Postgres refuses it. */
export async function expressionType(pool: Pool, table: TableRef, expr: string, where: string, file: string | null): Promise<string> {
  return (await planned(pool, table, expr, where, file)).type;
}

async function planned(pool: Pool, table: TableRef, expr: string, where: string, file: string | null): Promise<{ type: string; oid: number; typmod: number }> {
  const r = await planExpression(pool, table, expr);
  if (r.ok) return r;
  throw new DualrunError('DUALRUN_CONFIG_INVALID', `invalid config ${file ?? '(built-in config)'}: ${where}: ${r.why}`, { details: { config: file, path: where } });
}
