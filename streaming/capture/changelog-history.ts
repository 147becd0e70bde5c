/**
 * What pruning took out of a source table's trigger changelog (dualrun.changelog_pruned),
 * and the guards that make a reader or a replay refuse, naming why and what to set,
 * rather than rebuild from a partial history.
 *
 * Pruning deletes a prefix of the (tx_id, id) order; the mark holds its end and the
 * newest capture time among the deleted rows. A replay that re-reads the changelog
 * holds the table's prune lock (shared) from its check to its swap, so no prune runs
 * under it; prunes take the same lock exclusively for each batch.
 */
import type { Pool, PoolClient } from '../../src/core/db/connect.ts';
import { DualrunError } from '../../src/core/errors.ts';
import { comparePositions, type Position } from '../transport.ts';

export interface PrunedMark {
  readonly through: Position;
  readonly newestTs: Date;
  readonly rows: number;
  readonly prunedAt: Date;
}

/** A scalar subquery over ($1 table, $2 tx_id, $3 id): the pruned end as `tx.id` when it lies past the position, else NULL. */
export const PRUNED_PAST = `SELECT p.through_tx::text || '.' || p.through_id::text FROM dualrun.changelog_pruned p
   WHERE p.source_table = $1 AND (p.through_tx, p.through_id) > ($2::bigint, $3::bigint)`;

/** The advisory-lock key prunes (exclusive, per batch) and replays (shared, for their whole run) take. */
export function pruneLockKey(table: string): string {
  return `dualrun.changelog-prune/${table}`;
}

export async function readPrunedMark(db: Pool | PoolClient, table: string): Promise<PrunedMark | null> {
  const r = await db.query<{ tx: string; id: string; newest_ts: Date; rows_pruned: string; pruned_at: Date }>(
    'SELECT through_tx::text AS tx, through_id::text AS id, newest_ts, rows_pruned::text, pruned_at FROM dualrun.changelog_pruned WHERE source_table = $1', [table]);
  const m = r.rows[0];
  return m ? { through: { major: BigInt(m.tx), minor: BigInt(m.id) }, newestTs: m.newest_ts, rows: Number(m.rows_pruned), prunedAt: m.pruned_at } : null;
}

/** A changelog position as `tx_id.id`, and back. */
export function positionText(p: Position): string {
  return `${p.major}.${p.minor}`;
}

export function parsePosition(text: string): Position {
  const [major, minor] = text.split('.');
  return { major: BigInt(major), minor: BigInt(minor) };
}

/** A reader stands before the pruned end: a consumer pruning did not count (added to the config since it ran). */
export function historyPrunedError(table: string, at: Position, through: string): DualrunError {
  return new DualrunError('DUALRUN_CHANGELOG_PRUNED',
    `the trigger changelog of ${table} was pruned through position ${through}, past where this reader stands (${at.major < 0n ? 'it has not read yet' : positionText(at)}): ` +
    'the changes in between are gone, so reading on would silently skip them. A dataset added after pruning began cannot start from the changelog; ' +
    `set stream.source.changelogRetention: forever on every dataset reading ${table} before adding readers, or give the new dataset its own source table`,
    { details: { table, position: positionText(at), prunedThrough: through } });
}

export type ReplayStart = { readonly kind: 'beginning' } | { readonly kind: 'time'; readonly at: Date; readonly from: Position | null };

/** Throws unless every changelog row the replay would re-read is still there. */
export function requireHistory(dataset: string, table: string, mark: PrunedMark | null, start: ReplayStart): void {
  if (!mark) return;
  const pruned = `the trigger changelog of ${table} was pruned through position ${positionText(mark.through)} (${mark.rows} rows, newest captured ${mark.newestTs.toISOString()})`;
  const setting = `datasets.${dataset}.stream.source.changelogRetention`;
  if (start.kind === 'beginning') {
    throw new DualrunError('DUALRUN_CHANGELOG_PRUNED',
      `dataset ${dataset} cannot replay from the beginning: ${pruned}, so a rebuild would miss those changes. ` +
      `Set ${setting}: forever (on every dataset reading ${table}) to keep the whole history for changes captured from then on, or replay with --from-time after ${new Date(mark.newestTs.getTime() + 1).toISOString()}`,
      { details: { dataset, table, prunedThrough: positionText(mark.through), newestPruned: mark.newestTs.toISOString() } });
  }
  // Output rows carry their source time rounded to the millisecond: within 1 ms of T a pruned change could count as "at or after T".
  const clear = new Date(mark.newestTs.getTime() + 1);
  const cut = clear.getTime() >= start.at.getTime() || (start.from !== null && comparePositions(mark.through, start.from) >= 0);
  if (!cut) return;
  throw new DualrunError('DUALRUN_CHANGELOG_PRUNED',
    `dataset ${dataset} cannot replay from ${start.at.toISOString()}: ${pruned}, which includes changes the replay would re-read. ` +
    `Replay from a time after ${clear.toISOString()}, or set ${setting} to a duration (e.g. 7d) that covers how far back replays must reach`,
    { details: { dataset, table, prunedThrough: positionText(mark.through), newestPruned: mark.newestTs.toISOString() } });
}

export interface HistoryHold {
  /** Throws DUALRUN_CHANGELOG_PRUNED when rows the replay needs were pruned. */
  verify(start: ReplayStart): Promise<void>;
  release(): Promise<void>;
}

/** Holds the table's prune lock (shared, on its own connection) until released: no prune runs meanwhile. */
export async function holdHistory(db: Pool, dataset: string, table: string): Promise<HistoryHold> {
  const c = await db.connect();
  let broken = false;
  try {
    await c.query('SELECT pg_advisory_lock_shared(hashtextextended($1, 0))', [pruneLockKey(table)]);
  } catch (e) {
    c.release(true);
    throw e;
  }
  return {
    async verify(start) {
      requireHistory(dataset, table, await readPrunedMark(c, table), start);
    },
    async release() {
      try {
        await c.query('SELECT pg_advisory_unlock_shared(hashtextextended($1, 0))', [pruneLockKey(table)]);
      } catch {
        broken = true; // a dropped connection released its lock with it
      } finally {
        c.release(broken);
      }
    },
  };
}
