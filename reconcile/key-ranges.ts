/**
 * Range buckets for a single integer key that is NOT NULL on both sides: the
 * window's keys from the smallest to the largest (both sides, read in the
 * reconciler's own snapshots) cut into `count` consecutive ranges. Rows land in
 * buckets as cheaply as by modulo, and a mismatched bucket is an index range, so
 * drill-down reads its rows only (bucket-predicate-sql.ts) instead of scanning
 * the window again. Sparse keys make uneven buckets: still exact, only slower.
 */
import { columnRef, windowPredicateSql, type Bucketing } from './canonical-row-sql.ts';
import type { SideSession } from './side-session.ts';
import type { SideSpec } from './window-fingerprint.ts';

/** Wider key spans fall back to modulo buckets (the bucket arithmetic stays far from int8 overflow). */
const MAX_SPAN = 1n << 62n;

export function rangeEligible(b: Bucketing, batch: SideSpec, stream: SideSpec): boolean {
  const plain = (s: SideSpec) => s.key.length === 1 && s.key[0].expression === undefined && s.shape.notNull.has(s.key[0].name);
  return b.mode === 'integer' && plain(batch) && plain(stream);
}

async function keySpan(session: SideSession, side: SideSpec, bounds: [string, string] | null): Promise<[bigint, bigint] | null> {
  const ref = columnRef(side.key[0]);
  const params = side.windowColumn && bounds ? bounds : [];
  const r = await session.client.query<{ lo: string | null; hi: string | null }>(
    `SELECT min(${ref})::text AS lo, max(${ref})::text AS hi FROM ${side.shape.table.sql} WHERE ${windowPredicateSql(side.windowColumn, 1, 2)}`, params);
  const { lo, hi } = r.rows[0];
  return lo === null || hi === null ? null : [BigInt(lo), BigInt(hi)];
}

/** The range bucketing of this window, or the dataset's own bucketing when ranges do not apply. */
export async function windowBucketing(b: Bucketing, sides: [SideSession, SideSpec, [string, string] | null][]): Promise<Bucketing> {
  if (!rangeEligible(b, sides[0][1], sides[1][1])) return b;
  const spans = (await Promise.all(sides.map(([session, side, bounds]) => keySpan(session, side, bounds)))).filter((s) => s !== null);
  if (spans.length === 0) return b;
  const lo = spans.reduce((m, s) => (s[0] < m ? s[0] : m), spans[0][0]);
  const hi = spans.reduce((m, s) => (s[1] > m ? s[1] : m), spans[0][1]);
  const span = hi - lo + 1n;
  if (span > MAX_SPAN) return b;
  const count = BigInt(b.count);
  const width = (span + count - 1n) / count;
  return { ...b, mode: 'range', lo: lo.toString(), width: width.toString(), count: Number((span + width - 1n) / width) };
}
