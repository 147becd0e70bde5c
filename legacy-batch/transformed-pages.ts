/**
 * Pages through a per-row transform: rows arrive as JavaScript values (date/time
 * types kept as Postgres text so microseconds and zones survive), go through the
 * transform, and are inserted as columns of text cast to batch.output's types
 * with `unnest($n::text[])`.
 */
import pg from 'pg';
import type { PagePipe } from './cross-database-copy.ts';
import { checkColumns, identity, type PageContext } from './page-context.ts';
import { toPgText } from './row-text.ts';
import { transformPage, type BatchRow, type BatchTransform } from './transform-module.ts';
import { quoteColumn } from './window-load.ts';

const TEMPORAL_OIDS = new Set([1082, 1083, 1114, 1184, 1186, 1266]);
const FOR_TRANSFORM = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (TEMPORAL_OIDS.has(oid) ? identity : pg.types.getTypeParser(oid, format ?? 'text')),
};

export async function transformedPages(ctx: PageContext, transform: BatchTransform): Promise<PagePipe> {
  await ctx.source.query(`DECLARE dualrun_extract NO SCROLL CURSOR FOR ${ctx.query.text}`, [...ctx.query.values]);
  return {
    async fetch() {
      const r = await ctx.source.query<unknown[]>({ text: `FETCH ${ctx.pageRows} FROM dualrun_extract`, rowMode: 'array', types: FOR_TRANSFORM });
      const names = r.fields.map((f) => f.name);
      const objects = r.rows.map((row) => Object.fromEntries(names.map((name, j) => [name, row[j]])) as BatchRow);
      const out = await transformPage(transform, objects);
      return { fetched: r.rows.length, insert: () => insertColumns(ctx, out) };
    },
  };
}

async function insertColumns(ctx: PageContext, rows: BatchRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  checkColumns(ctx, names);
  const quoted = names.map(quoteColumn);
  const types = names.map((n) => ctx.cols.get(n)!.type);
  const columns = names.map((name, i) => rows.map((r) => toPgText(r[name], types[i])));
  const r = await ctx.target.query(
    `INSERT INTO ${ctx.output.sql} (${quoted.join(', ')})
     SELECT ${quoted.map((q, i) => `${q}::${types[i]}`).join(', ')}
     FROM unnest(${names.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS u(${quoted.join(', ')})`,
    columns,
  );
  return r.rowCount ?? 0;
}
