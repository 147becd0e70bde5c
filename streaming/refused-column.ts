/**
 * Which column holds the value Postgres refused in a record that fails alone. The sink
 * binds a batch as one array (or COPY column) per column, so an input error such as
 * `invalid input syntax for type integer: "x"` or `value too long for type character
 * varying(3)` names no column; a dead letter must. Each of the record's scalar values is
 * tested as the text it was bound as, against its column's type (modifier and domain
 * included), with pg_input_is_valid (Postgres 16+): one statement per dead letter, never
 * on the way of good records. On an older server (no such function) nothing is named.
 */
import type { PoolClient } from '../src/core/db/connect.ts';
import type { JsonRow } from './change-event.ts';
import { elementText } from './copy-text.ts';
import type { OutputColumn } from './output-table.ts';

export interface RefusedColumn { readonly column: string; readonly type: string; readonly message: string }

export async function refusedColumn(c: PoolClient, columns: readonly OutputColumn[], rows: readonly JsonRow[]): Promise<RefusedColumn | null> {
  const texts: (string | null)[] = [];
  const types: string[] = [];
  const named: OutputColumn[] = [];
  for (const row of rows) {
    for (const col of columns) {
      const v = row[col.name];
      if (!col.scalar || v === undefined || v === null) continue;
      const text = elementText(v);
      // U+0000 cannot even be sent as a parameter (the whole check would fail as the value did).
      if (text !== null && text.includes('\u0000')) return { column: col.name, type: col.type, message: 'a NUL character (U+0000), which Postgres text cannot hold' };
      texts.push(text);
      types.push(col.type);
      named.push(col);
    }
  }
  if (named.length === 0) return null;
  await c.query('SAVEPOINT dr_refused_column');
  try {
    const r = await c.query<{ i: number; message: string }>(
      `SELECT x.i::int AS i, (pg_catalog.pg_input_error_info(x.v, x.t)).message AS message
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(v, t, i)
        WHERE NOT pg_catalog.pg_input_is_valid(x.v, x.t) ORDER BY x.i LIMIT 1`, [texts, types]);
    await c.query('RELEASE SAVEPOINT dr_refused_column');
    const hit = r.rows[0];
    return hit ? { column: named[hit.i - 1].name, type: named[hit.i - 1].type, message: hit.message } : null;
  } catch {
    // An older server, or a type whose input function cannot report softly: the reason stays Postgres's own.
    await c.query('ROLLBACK TO SAVEPOINT dr_refused_column');
    return null;
  }
}
