/**
 * Reading `dualrun.changelog` completely and in a stable order.
 *
 * Changelog ids come from a sequence, handed out when a row is inserted, not when
 * its transaction commits: a reader that only remembered "the highest id seen"
 * would skip a slow transaction's smaller ids that commit later. So rows are read
 * in (tx_id, id) order and only from transactions older than the snapshot's xmin
 * (every transaction below xmin has finished, so that part of the log is final);
 * the position is the pair (tx_id, id).
 *
 * Per key, ids still follow the source's commit order (the second writer of a row
 * waits for the first one's lock), so the changelog id is the version. A long
 * writing transaction anywhere in the cluster holds xmin back and delays reading
 * (it never loses anything).
 *
 * Pruning (changelog-prune.ts) deletes only what every consumer it knows of has read;
 * a reader it did not know of (a dataset added to the config since) would find a
 * gap. So each page also reads, in the same statement, whether anything past the
 * cursor was pruned, and refuses then instead of silently skipping history.
 */
import type { Pool } from '../../src/core/db/connect.ts';
import { sleep } from '../abortable-sleep.ts';
import { comparePositions, type Position, type SourceRecord } from '../transport.ts';
import { historyPrunedError, parsePosition, positionText, PRUNED_PAST } from './changelog-history.ts';

export interface ChangelogPage {
  readonly records: SourceRecord[];
  /** Non-null when the page reached the readable head: when the head was seen. */
  readonly headSeenAt: Date | null;
}

const READ = `
WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
SELECT c.tx_id::text, c.id::text, (extract(epoch FROM c.ts) * 1000)::float8 AS ts_ms, (${PRUNED_PAST}) AS pruned,
       json_build_object('op', c.op, 'before', c.before, 'after', c.after, 'ts_ms', (extract(epoch FROM c.ts) * 1000)::bigint,
         'source', json_build_object('connector', 'dualrun', 'table', c.source_table, 'lsn', c.id, 'txId', c.tx_id,
                                     'ts_ms', (extract(epoch FROM c.ts) * 1000)::bigint))::text AS value
  FROM dualrun.changelog c, horizon h
 WHERE c.source_table = $1 AND (c.tx_id, c.id) > ($2::bigint, $3::bigint) AND c.tx_id < h.xmin
 ORDER BY c.tx_id, c.id
 LIMIT $4`;

// When caught up, the head is "now" unless an open writing transaction began
// earlier: its rows, when it commits, carry earlier times.
const HEAD_SEEN = `SELECT least(now(), (SELECT min(xact_start) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid())) AS at,
  (${PRUNED_PAST}) AS pruned`;

/** A page, or where pruning reached past `after` (the page would have a hole). */
async function readPage(db: Pool, table: string, after: Position, limit: number): Promise<ChangelogPage | { gap: Position }> {
  const args = [table, after.major.toString(), after.minor.toString()];
  const r = await db.query<{ tx_id: string; id: string; ts_ms: number; value: string; pruned: string | null }>(READ, [...args, limit]);
  if (r.rows[0]?.pruned) return { gap: parsePosition(r.rows[0].pruned) };
  const records = r.rows.map((row): SourceRecord => ({
    position: { major: BigInt(row.tx_id), minor: BigInt(row.id) },
    key: null,
    value: row.value,
    timestamp: new Date(row.ts_ms),
    fallbackVersion: BigInt(row.id),
  }));
  if (records.length >= limit) return { records, headSeenAt: null };
  const head = await db.query<{ at: Date; pruned: string | null }>(HEAD_SEEN, args);
  if (head.rows[0].pruned) return { gap: parsePosition(head.rows[0].pruned) };
  return { records, headSeenAt: head.rows[0].at };
}

/**
 * Whether committed changes exist past a position that are not readable yet (their
 * transaction is at or above xmin because an older writer is still open). `--until-idle`
 * must wait for them rather than call the source idle.
 */
async function hasUnreadableChanges(db: Pool, table: string, after: Position): Promise<boolean> {
  const r = await db.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM dualrun.changelog WHERE source_table = $1 AND (tx_id, id) > ($2::bigint, $3::bigint)) AS any`,
    [table, after.major.toString(), after.minor.toString()]);
  return r.rows[0].any;
}

export interface FollowOptions {
  readonly limit: number;
  readonly pollMs: number;
  readonly signal: AbortSignal;
  /** Return once nothing committed is left past the position, not merely nothing readable yet. */
  readonly untilIdle: boolean;
  /**
   * The consumer's stored position. When rows past the cursor were pruned because
   * another process of the same consumer committed past them, reading resumes from there.
   */
  readonly stored?: () => Promise<Position>;
}

/**
 * A table's changelog pages past `from`, in order, until aborted or (untilIdle)
 * drained. An empty page (caught up, with `headSeenAt`) is yielded too, then the
 * reader waits `pollMs`. The next page is read only once the caller is done with
 * this one, and starts after its last record.
 */
export async function* followChangelog(db: Pool, table: string, from: Position, o: FollowOptions): AsyncGenerator<ChangelogPage> {
  let cursor = from;
  while (!o.signal.aborted) {
    const page = await readPage(db, table, cursor, o.limit);
    if ('gap' in page) {
      const stored = o.stored ? await o.stored() : null;
      if (!stored || comparePositions(stored, page.gap) < 0) throw historyPrunedError(table, cursor, positionText(page.gap));
      cursor = stored;
      continue;
    }
    yield page;
    if (page.records.length > 0) {
      cursor = page.records[page.records.length - 1].position;
      continue;
    }
    if (o.untilIdle && !(await hasUnreadableChanges(db, table, cursor))) return;
    await sleep(o.pollMs, o.signal);
  }
}
