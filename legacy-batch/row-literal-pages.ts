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
import { describeQueryFields, quoteColumn } from './window-load.ts';

// A timestamptz prints in the source session's TimeZone, and its text read as a timestamp or
// date keeps that zone's wall clock ('2026-11-05 23:30:00+00' from an Asia/Kolkata source became
// 2026-11-06 05:00, where the same load on the output's database gives its own zone's 18:30).
// It crosses as a timestamptz, so the INSERT converts it as INSERT … SELECT on the target does.
const TIMESTAMPTZ_OID = 1184;

export async function rowLiteralPages(ctx: PageContext): Promise<PagePipe> {
  const fields = await describeQueryFields(ctx.source, ctx.query);
  const names = fields.map((f) => f.name);
  checkColumns(ctx, names);
  const quoted = names.map(quoteColumn);
  const defs = fields.map((f, i) => `${quoted[i]} ${f.typeId === TIMESTAMPTZ_OID ? 'timestamptz' : ctx.cols.get(f.name)!.type}`);
  // Dropped with the load transaction (commit or rollback).
  await ctx.target.query(`CREATE TEMP TABLE dualrun_page_row (${defs.join(', ')}) ON COMMIT DROP`);
  await ctx.source.query(`DECLARE dualrun_extract NO SCROLL CURSOR FOR SELECT dualrun_row::text FROM (\n${ctx.query.text}\n) AS dualrun_row`, [...ctx.query.values]);
  const insertSql = `INSERT INTO ${ctx.output.sql} (${quoted.join(', ')}) SELECT ${quoted.join(', ')} FROM unnest($1::pg_temp.dualrun_page_row[])`;
  return {
    async fetch() {
      const r = await ctx.source.query<[string]>({ text: `FETCH ${ctx.pageRows} FROM dualrun_extract`, rowMode: 'array', types: ALL_TEXT });
      const literals = r.rows.map((row) => row[0]);
      return { fetched: literals.length, insert: async () => (await ctx.target.query(insertSql, [literals])).rowCount ?? 0 };
    },
  };
}
