/**
 * Pruning a source table's trigger changelog: deletes the rows of dualrun.changelog
 * (dualrun's own table, rows its capture wrote) that every consumer of the table has
 * already read — the rows at or before the oldest stored position among them (see
 * changelog-consumers.ts) — minus what `changelogRetention` keeps for replays.
 *
 * Why it is safe next to capture, readers and relays:
 *   - a consumer's position is the last row it committed, taken from transactions
 *     that had all finished, so nothing at or before it can still appear (a row of a
 *     transaction still open has a larger tx_id than that position, and an
 *     uncommitted row is invisible to the DELETE anyway);
 *   - positions only move forward, except in a replay, which holds the table's prune
 *     lock (shared) throughout; each batch takes it exclusively (try-lock: a running
 *     replay or another prune means "not now") and reads the positions under it;
 *   - the deleted rows form a prefix of the (tx_id, id) order; each batch records
 *     the prefix's end in dualrun.changelog_pruned in the same transaction, which a
 *     reader that pruning did not count, or a replay, checks (changelog-history.ts).
 * Batches are bounded (an index range on (source_table, tx_id, id)): a big backlog
 * is many short transactions, never one long lock.
 */
import type { Pool, PoolClient } from '../../src/core/db/connect.ts';
import { formatDuration } from '../../src/core/duration.ts';
import type { Runtime } from '../../src/core/runtime.ts';
import { comparePositions, type Position } from '../transport.ts';
import { changelogReaders, oldestRead, triggerTable, type ChangelogReaders } from './changelog-consumers.ts';
import { positionText, pruneLockKey, readPrunedMark } from './changelog-history.ts';

export interface PruneResult {
  readonly table: string;
  /** Rows deleted by this call. */
  readonly pruned: number;
  readonly batches: number;
  /** The end of everything pruned so far (`tx_id.id`), or null when nothing ever was. */
  readonly prunedThrough: string | null;
  /** Why nothing older is left to prune, or why pruning stopped. */
  readonly keptBecause: string;
}

export interface PruneOptions {
  /** Rows per delete transaction (default 10 000). */
  readonly batchSize?: number;
  /** Stops between batches. */
  readonly signal?: AbortSignal;
}

const DELETE_BATCH = `
WITH doomed AS (
  SELECT id FROM dualrun.changelog
   WHERE source_table = $1 AND (tx_id, id) <= ($2::bigint, $3::bigint)
   ORDER BY tx_id, id LIMIT $4),
gone AS (DELETE FROM dualrun.changelog c USING doomed d WHERE c.id = d.id RETURNING c.tx_id, c.id, c.ts),
last AS (SELECT tx_id, id FROM gone ORDER BY tx_id DESC, id DESC LIMIT 1),
agg AS (SELECT count(*) AS n, max(ts) AS newest_ts FROM gone),
mark AS (
  INSERT INTO dualrun.changelog_pruned AS p (source_table, through_tx, through_id, newest_ts, rows_pruned, pruned_at)
  SELECT $1, last.tx_id, last.id, agg.newest_ts, agg.n, now() FROM last, agg
  ON CONFLICT (source_table) DO UPDATE SET
    through_tx = CASE WHEN (EXCLUDED.through_tx, EXCLUDED.through_id) > (p.through_tx, p.through_id) THEN EXCLUDED.through_tx ELSE p.through_tx END,
    through_id = CASE WHEN (EXCLUDED.through_tx, EXCLUDED.through_id) > (p.through_tx, p.through_id) THEN EXCLUDED.through_id ELSE p.through_id END,
    newest_ts = greatest(p.newest_ts, EXCLUDED.newest_ts), rows_pruned = p.rows_pruned + EXCLUDED.rows_pruned, pruned_at = now()
  RETURNING 1)
SELECT (SELECT n FROM agg)::int AS n`;

/** Prunes one source table's changelog as far as its consumers and retention allow. */
export async function pruneChangelog(rt: Runtime, table: string, o: PruneOptions = {}): Promise<PruneResult> {
  const batchSize = o.batchSize ?? 10_000;
  const readers = await changelogReaders(rt, table);
  const db = await rt.db();
  let pruned = 0;
  let batches = 0;
  let keptBecause = readers.datasets.length === 0 ? 'no dataset in the config reads it with trigger capture' : 'changelogRetention: forever';
  if (readers.datasets.length > 0 && readers.retention !== 'forever') {
    const state: { cap?: Position } = {};
    for (;;) {
      const step = await inPruneBatch(db, table, (c) => pruneBatch(c, readers, readers.retention as number, batchSize, state));
      pruned += step.n;
      batches += step.n > 0 ? 1 : 0;
      keptBecause = step.why;
      if (step.n < batchSize || o.signal?.aborted) break;
    }
  }
  const mark = await readPrunedMark(db, table);
  const result = { table, pruned, batches, prunedThrough: mark ? positionText(mark.through) : null, keptBecause };
  if (pruned > 0) {
    rt.metrics.changelogPruned(table, pruned);
    rt.log.info(result, `changelog of ${table}: pruned ${pruned} rows (kept: ${keptBecause})`);
  } else rt.log.debug(result, `changelog of ${table}: nothing to prune (${keptBecause})`);
  return result;
}

/** One delete batch up to the oldest position read now (under the lock), capped by retention. */
async function pruneBatch(c: PoolClient, readers: ChangelogReaders, keepMs: number, batchSize: number, state: { cap?: Position }) {
  const oldest = await oldestRead(readers.consumers);
  if (!oldest.position) return { n: 0, why: `${oldest.by} has not read it yet (it needs everything)` };
  let bound = oldest.position;
  let why = `${oldest.by} has read up to ${positionText(bound)}`;
  if (keepMs > 0) {
    state.cap ??= await retentionCap(c, readers.table, bound, keepMs);
    if (comparePositions(state.cap, bound) < 0) { bound = state.cap; why = `changes of the last ${formatDuration(keepMs)} are kept (changelogRetention)`; }
  }
  const r = await c.query<{ n: number }>(DELETE_BATCH, [readers.table, bound.major.toString(), bound.minor.toString(), batchSize]);
  return { n: r.rows[0].n, why };
}

/** One batch under the table's prune lock; a replay or another prune holding it means "not now". */
async function inPruneBatch(db: Pool, table: string, fn: (c: PoolClient) => Promise<{ n: number; why: string }>) {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    const lock = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok', [pruneLockKey(table)]);
    const step = lock.rows[0].ok ? await fn(c) : { n: 0, why: 'a replay or another prune of this table is running' };
    await c.query('COMMIT');
    return step;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/**
 * The newest position retention lets go: just before the first row (in read order,
 * at or before `bound`) captured within the last `keepMs`, else `bound` itself. It
 * is computed once per prune so later batches never reach past it.
 */
async function retentionCap(c: PoolClient, table: string, bound: Position, keepMs: number): Promise<Position> {
  const r = await c.query<{ tx_id: string; id: string }>(
    `SELECT tx_id::text, id::text FROM dualrun.changelog
      WHERE source_table = $1 AND (tx_id, id) <= ($2::bigint, $3::bigint) AND ts >= now() - $4 * interval '1 millisecond'
      ORDER BY tx_id, id LIMIT 1`, [table, bound.major.toString(), bound.minor.toString(), keepMs]);
  const first = r.rows[0];
  return first ? { major: BigInt(first.tx_id), minor: BigInt(first.id) - 1n } : bound;
}

/** `dualrun capture --prune`: each trigger-captured source table of the datasets, once, as far as allowed. */
export async function pruneChangelogs(rt: Runtime, datasets: readonly string[]): Promise<PruneResult[]> {
  const tables = [...new Set(datasets.map((n) => triggerTable(rt.dataset(n))).filter((t): t is string => t !== null))];
  const out: PruneResult[] = [];
  for (const t of tables) {
    if (rt.signal.aborted) break;
    out.push(await pruneChangelog(rt, t, { signal: rt.signal }));
  }
  return out;
}
