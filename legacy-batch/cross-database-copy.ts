/**
 * Managed load when rows must leave Postgres: the query reads another database
 * (`batch.source.url`) or a per-row transform runs in Node. The source is read
 * through a server-side cursor in pages inside a REPEATABLE READ READ ONLY
 * snapshot, and each page is inserted into the target transaction while the next
 * one is fetched. At most two pages are in memory, so memory is bounded by the
 * page size, not the window size.
 */
import { inTransaction, type Pool, type PoolClient } from '../src/core/db/connect.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import type { BoundQuery } from './batch-query.ts';
import { cancelOnAbort } from './cancel-on-abort.ts';
import { outputColumns } from './output-columns.ts';
import { rowLiteralPages } from './row-literal-pages.ts';
import { transformedPages } from './transformed-pages.ts';
import type { BatchTransform } from './transform-module.ts';

export interface PagedCopySource {
  readonly pool: Pool;
  readonly query: BoundQuery;
  readonly transform: BatchTransform | null;
  readonly pageRows?: number;
  readonly signal?: AbortSignal;
}

export interface CopyResult { rows: number; snapshotAt: Date }

/** How pages move: fetched from the source cursor, then inserted into the target. */
export interface PagePipe {
  /** The next page; `fetched` 0 means the cursor is exhausted. */
  fetch(): Promise<{ fetched: number; insert: () => Promise<number> }>;
}

export async function pagedCopy(target: PoolClient, output: TableRef, src: PagedCopySource): Promise<CopyResult> {
  const cols = await outputColumns(target, output);
  return inTransaction(src.pool, async (client) => {
    const stopCancel = await cancelOnAbort(src.pool, client, src.signal);
    try {
      // Rows cross as text: every float with all its digits, whatever the source role's
      // extra_float_digits (0 printed 15 digits: 0.1000000000000001 arrived as 0.1). Dates and
      // intervals already print in forms the target reads alike (READABLE_OUTPUT_SQL, connect.ts).
      // Each side waits, idle in its transaction, while the other fetches or inserts a page: a
      // role's idle_in_transaction_session_timeout must not end the load half-way.
      await client.query(`SELECT pg_catalog.set_config('extra_float_digits', '3', true), ${NO_IDLE_TIMEOUT}`);
      await target.query(`SELECT ${NO_IDLE_TIMEOUT}`);
      const snapshotAt = (await client.query<{ at: Date }>('SELECT now() AS at')).rows[0].at;
      const ctx = { source: client, target, output, cols, query: src.query, pageRows: src.pageRows ?? defaultPageRows() };
      const pipe = src.transform ? await transformedPages(ctx, src.transform) : await rowLiteralPages(ctx);
      let rows = 0;
      let page = await pipe.fetch();
      while (page.fetched > 0) {
        src.signal?.throwIfAborted();
        const next = pipe.fetch();
        next.catch(() => undefined); // awaited below; an insert failure must not leave it unhandled
        rows += await page.insert();
        page = await next;
      }
      return { rows, snapshotAt };
    } finally {
      stopCancel();
    }
  }, { begin: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' });
}

const NO_IDLE_TIMEOUT = `pg_catalog.set_config('idle_in_transaction_session_timeout', '0', true)`;

/** Rows per page: DUALRUN_BATCH_PAGE_ROWS, else 2000 (larger pages gained little speed and cost peak memory). */
function defaultPageRows(): number {
  const n = Number(process.env.DUALRUN_BATCH_PAGE_ROWS);
  return Number.isInteger(n) && n > 0 ? n : 2000;
}
