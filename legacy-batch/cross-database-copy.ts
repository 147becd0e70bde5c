/**
 * Managed load when rows must leave Postgres: the query reads another database
 * (`batch.source.url`) or a per-row transform runs in Node. The source is read
 * through a server-side cursor in pages inside a REPEATABLE READ snapshot; each
 * page is inserted with `unnest($n::text[])` casts into the target transaction.
 * At most two pages are in memory (one fetching while the previous inserts), so
 * memory is bounded by the page size, not the window size.
 */
import pg from 'pg';
import type { Pool, PoolClient } from '../src/db/connect.ts';
import type { TableRef } from '../src/identifiers.ts';
import type { BoundQuery } from './batch-query.ts';
import { cancelOnAbort } from './cancel-on-abort.ts';
import { outputColumns, type OutputColumn } from './output-columns.ts';
import { toPgText } from './row-text.ts';
import { transformPage, type BatchRow, type BatchTransform } from './transform-module.ts';
import { quoteColumn } from './window-load.ts';

export interface PagedCopySource {
  readonly pool: Pool;
  readonly query: BoundQuery;
  readonly transform: BatchTransform | null;
  readonly pageRows?: number;
  readonly signal?: AbortSignal;
}

export interface CopyResult { rows: number; snapshotAt: Date }

/** A page as columns of Postgres text, ready for unnest. */
interface TextPage {
  names: string[];
  columns: (string | null)[][];
  /** Rows to insert (a transform may drop or multiply rows). */
  count: number;
  /** Rows fetched from the cursor: 0 means the cursor is exhausted. */
  fetched: number;
}

const identity = (v: string) => v;
// Without a transform every value stays Postgres text: no parse, no precision loss.
const ALL_TEXT = { getTypeParser: () => identity };
// A transform sees pg's usual values, except date/time types, kept as text so
// microseconds and time zones survive the trip through JavaScript.
const TEMPORAL_OIDS = new Set([1082, 1083, 1114, 1184, 1186, 1266]);
const FOR_TRANSFORM = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (TEMPORAL_OIDS.has(oid) ? identity : pg.types.getTypeParser(oid, format ?? 'text')),
};

export async function pagedCopy(target: PoolClient, output: TableRef, src: PagedCopySource): Promise<CopyResult> {
  const cols = await outputColumns(target, output);
  const client = await src.pool.connect();
  const stopCancel = await cancelOnAbort(src.pool, client, src.signal);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshotAt = (await client.query<{ at: Date }>('SELECT now() AS at')).rows[0].at;
    await client.query(`DECLARE dualrun_extract NO SCROLL CURSOR FOR ${src.query.text}`, [...src.query.values]);
    const fetchPage = () => fetchTextPage(client, src.pageRows ?? defaultPageRows(), src.transform, cols);
    let rows = 0;
    let page = await fetchPage();
    while (page.fetched > 0) {
      src.signal?.throwIfAborted();
      const next = fetchPage();
      next.catch(() => undefined); // awaited below; an insert failure must not leave it unhandled
      if (page.count > 0) rows += await insertTextPage(target, output, cols, page);
      page = await next;
    }
    await client.query('COMMIT');
    return { rows, snapshotAt };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    stopCancel();
    client.release();
  }
}

/** Rows per page: DUALRUN_BATCH_PAGE_ROWS, else 5000 (wide rows may want fewer). */
function defaultPageRows(): number {
  const n = Number(process.env.DUALRUN_BATCH_PAGE_ROWS);
  return Number.isInteger(n) && n > 0 ? n : 5000;
}

async function fetchTextPage(client: PoolClient, n: number, transform: BatchTransform | null, cols: Map<string, OutputColumn>): Promise<TextPage> {
  const r = await client.query<unknown[]>({ text: `FETCH ${n} FROM dualrun_extract`, rowMode: 'array', types: transform ? FOR_TRANSFORM : ALL_TEXT });
  const names = r.fields.map((f) => f.name);
  if (!transform) {
    return { names, columns: names.map((_, j) => r.rows.map((row) => row[j] as string | null)), count: r.rows.length, fetched: r.rows.length };
  }
  const objects = r.rows.map((row) => Object.fromEntries(names.map((name, j) => [name, row[j]])) as BatchRow);
  return { ...toTextPage(await transformPage(transform, objects), cols), fetched: r.rows.length };
}

function toTextPage(rows: BatchRow[], cols: Map<string, OutputColumn>): Omit<TextPage, 'fetched'> {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const columns = names.map((name) => rows.map((r) => toPgText(r[name], cols.get(name)?.type ?? 'text')));
  return { names, columns, count: rows.length };
}

async function insertTextPage(target: PoolClient, output: TableRef, cols: Map<string, OutputColumn>, page: TextPage): Promise<number> {
  const unknown = page.names.filter((n) => !cols.has(n));
  if (unknown.length > 0) throw new Error(`column ${unknown.map((n) => JSON.stringify(n)).join(', ')} of the batch rows is not a column of ${output.text}`);
  const quoted = page.names.map(quoteColumn);
  const casts = page.names.map((n, i) => `${quoted[i]}::${cols.get(n)!.type}`);
  const args = page.names.map((_, i) => `$${i + 1}::text[]`);
  const r = await target.query(
    `INSERT INTO ${output.sql} (${quoted.join(', ')}) SELECT ${casts.join(', ')} FROM unnest(${args.join(', ')}) AS u(${quoted.join(', ')})`,
    page.columns,
  );
  return r.rowCount ?? 0;
}
