/**
 * A reconciler session on one side's database: one client in a read-only
 * REPEATABLE READ transaction, so the fingerprint and the drill-down see the
 * same data even while the streaming path keeps writing. When both sides live
 * in one database, the second session imports the first one's snapshot, so the
 * two sides are compared at the same instant while scanning in parallel.
 */
import { CATALOG_FIRST_SQL, CATALOG_ONLY_SQL, type Pool, type PoolClient } from '../src/core/db/connect.ts';
import { sessionSettings } from './canonical-row-sql.ts';

export interface SideSession {
  readonly client: PoolClient;
  /** The snapshot id, for a second session to share (same database only). */
  exportSnapshot(): Promise<string>;
  /** Streams a query's rows through a server-side cursor: `batchSize` first, then larger fetches (`nextFetchSize`), the next one in flight while this one is read. */
  cursor<R>(sql: string, params?: unknown[], batchSize?: number): AsyncGenerator<R>;
  /**
   * A query's rows: in one round trip when the caller knows the result is small
   * (Postgres never runs a cursor's plan in parallel, so this is much faster on
   * large scans with small results), else through a cursor.
   */
  rows<R>(sql: string, params: unknown[], small: boolean): AsyncGenerator<R>;
  /**
   * From here on, search pg_catalog alone (unless the side has reconcile.expressions). Called once
   * the outputs' shapes are read: those (format_type, pg_get_viewdef) print names as the user's path
   * sees them, and the cutover gate re-reads them that way.
   */
  catalogOnly(): Promise<void>;
  close(): Promise<void>;
}

let cursorSeq = 0;

/** Rows a cursor fetch may grow to, and the bytes one fetch should hold (two are held: the one read, the one in flight). */
const MAX_FETCH_ROWS = 16_384;
const FETCH_BYTES = 2 * 1024 * 1024;

/**
 * The next fetch's size: four times the last, up to what fits in FETCH_BYTES at the
 * size of the rows just read, never below the caller's size. With many rows to read
 * (every key of a window differs) small fetches made the run a series of round trips.
 */
export function nextFetchSize(last: number, initial: number, rows: readonly unknown[]): number {
  const perRow = approxRowBytes(rows);
  const fits = Math.floor(FETCH_BYTES / Math.max(1, perRow));
  return Math.max(initial, Math.min(last * 4, fits, MAX_FETCH_ROWS));
}

/** The text size of the largest of 16 rows spread over a fetch: an estimate, not a measure. */
function approxRowBytes(rows: readonly unknown[]): number {
  const step = Math.max(1, Math.floor(rows.length / 16));
  let most = 0;
  for (let i = 0; i < rows.length; i += step) {
    let bytes = 0;
    for (const v of Object.values(rows[i] as Record<string, unknown>)) bytes += valueBytes(v);
    most = Math.max(most, bytes);
  }
  return most;
}

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return 2 * v.length + 16;
  if (Array.isArray(v)) return v.reduce((a: number, x) => a + valueBytes(x), 16);
  return 16;
}

/** A promise whose rejection is reported only where it is awaited (a prefetch may never be). */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}


/**
 * `timeZone`: the dataset's window time zone (default UTC): instants print in it, wall clocks are read in it.
 * `settings`: more settings for this transaction only (scan-settings.ts); the server's stay untouched.
 * `userFunctions`: this side's SQL holds reconcile.expressions, which may call the user's functions:
 * the user's schemas stay on the path after pg_catalog. Otherwise, after `catalogOnly()`, pg_catalog
 * alone is searched, so no overload of the user's can stand in for one the reconciler calls
 * (connect.ts, CATALOG_ONLY_SQL).
 */
export async function openSideSession(pool: Pool, opts: { snapshot?: string; timeZone?: string; settings?: readonly (readonly [string, string])[]; userFunctions?: boolean } = {}): Promise<SideSession> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (opts.snapshot) await client.query(`SET TRANSACTION SNAPSHOT '${opts.snapshot.replace(/[^0-9A-Fa-f-]/g, '')}'`);
    const settings = [...sessionSettings(opts.timeZone ?? 'UTC'), ...(opts.settings ?? [])];
    await client.query(`SELECT ${settings.map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`, settings.flat());
    await client.query(CATALOG_FIRST_SQL);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    throw e;
  }
  let closed = false;
  async function* cursor<R>(sql: string, params: unknown[] = [], batchSize = 500): AsyncGenerator<R> {
    const name = `dualrun_rc_${++cursorSeq}`;
    await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = (n: number) => handled(client.query(`FETCH FORWARD ${n} FROM ${name}`));
    let size = batchSize;
    let next: Promise<{ rows: unknown[] }> | null = fetch(size);
    try {
      while (next) {
        const r = await next;
        const asked = size;
        // The next fetch runs in Postgres while this one's rows are processed here.
        next = null;
        if (r.rows.length === asked) next = fetch((size = nextFetchSize(asked, batchSize, r.rows)));
        for (const row of r.rows as R[]) yield row;
      }
    } finally {
      if (next) await next.catch(() => undefined);
      await client.query(`CLOSE ${name}`).catch(() => undefined);
    }
  }
  async function* all<R>(sql: string, params: unknown[]): AsyncGenerator<R> {
    const r = await client.query(sql, params);
    yield* r.rows as R[];
  }
  return {
    client,
    async exportSnapshot() {
      return (await client.query<{ s: string }>('SELECT pg_catalog.pg_export_snapshot() AS s')).rows[0].s;
    },
    cursor,
    rows: <R>(sql: string, params: unknown[], small: boolean) => (small ? all<R>(sql, params) : cursor<R>(sql, params)),
    async catalogOnly() {
      if (!opts.userFunctions) await client.query(CATALOG_ONLY_SQL);
    },
    async close() {
      if (closed) return;
      closed = true;
      // Read-only: COMMIT and ROLLBACK are equivalent; a failed transaction only accepts ROLLBACK.
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    },
  };
}

/** Runs fn with settings changed for this transaction only, then puts them back. */
export async function withLocalSettings<T>(session: SideSession, settings: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: [string, string][] = [];
  for (const [name, value] of Object.entries(settings)) {
    const r = await session.client.query<{ old: string }>('SELECT current_setting($1) AS old, set_config($1, $2, true)', [name, value]);
    saved.push([name, r.rows[0].old]);
  }
  const out = await fn();
  for (const [name, old] of saved) await session.client.query('SELECT set_config($1, $2, true)', [name, old]);
  return out;
}
