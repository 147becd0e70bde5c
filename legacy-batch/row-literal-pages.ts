/**
 * Pages without a transform: the source renders each row as one record literal
 * (`SELECT q::text`, e.g. `(1,2026-11-20,"a, b",)`), and the target parses a page
 * of them with `unnest($1::pg_temp.dualrun_page_row[])`, a temporary row type
 * holding the query's columns with batch.output's types. One string per row
 * crosses Node instead of one per value, which keeps both time and garbage low;
 * the text forms are each type's canonical output, so nothing is lost.
 */
import type { PagePipe } from './cross-database-copy.ts';
import { ALL_TEXT, checkColumns, type PageContext } from './page-context.ts';
import { describeQuery, quoteColumn } from './window-load.ts';
import { guardedInsert } from './window-rows-guard.ts';

export async function rowLiteralPages(ctx: PageContext): Promise<PagePipe> {
  const names = await describeQuery(ctx.source, ctx.query);
  checkColumns(ctx, names);
  const quoted = names.map(quoteColumn);
  const defs = names.map((n, i) => `${quoted[i]} ${ctx.cols.get(n)!.type}`);
  // Dropped with the load transaction (commit or rollback).
  await ctx.target.query(`CREATE TEMP TABLE dualrun_page_row (${defs.join(', ')}) ON COMMIT DROP`);
  await ctx.source.query(`DECLARE dualrun_extract NO SCROLL CURSOR FOR SELECT dualrun_row::text FROM (\n${ctx.query.text}\n) AS dualrun_row`, [...ctx.query.values]);
  const insertSql = `INSERT INTO ${ctx.output.sql} (${quoted.join(', ')}) SELECT ${quoted.join(', ')} FROM unnest($1::pg_temp.dualrun_page_row[])`;
  return {
    async fetch() {
      const r = await ctx.source.query<[string]>({ text: `FETCH ${ctx.pageRows} FROM dualrun_extract`, rowMode: 'array', types: ALL_TEXT });
      const literals = r.rows.map((row) => row[0]);
      return { fetched: literals.length, insert: () => guardedInsert(ctx.target, insertSql, [literals], ctx.guard) };
    },
  };
}
