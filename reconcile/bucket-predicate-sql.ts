/**
 * "This row is in one of these buckets", as SQL a drill-down can run cheaply.
 * Range buckets on an indexed key become index ranges (adjacent buckets merged),
 * so only the mismatched buckets' rows are read; the bucket test stays beside
 * them, so the ranges only choose what is read, never what counts. Otherwise
 * (or with too many ranges for the planner to enjoy) the bucket of every row of
 * the window is tested against a hashed list.
 */
import { bucketListSql, bucketSql, columnRef, type Bucketing } from './canonical-row-sql.ts';
import type { SideSpec } from './window-fingerprint.ts';

const MAX_RANGES = 500;
const INT8_MAX = (1n << 63n) - 1n;

/** Consecutive bucket numbers merged into [first, last] runs. */
export function bucketRuns(buckets: readonly number[]): [number, number][] {
  const sorted = [...buckets].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const b of sorted) {
    const last = runs[runs.length - 1];
    if (last && b <= last[1] + 1) last[1] = Math.max(last[1], b);
    else runs.push([b, b]);
  }
  return runs;
}

export function inBucketsSql(side: SideSpec, b: Bucketing, buckets: readonly number[]): string {
  const test = `${bucketSql(side.key, b)} = ANY(${bucketListSql(buckets)})`;
  if (b.mode !== 'range' || side.key[0].expression !== undefined || !side.shape.indexLeading.has(side.key[0].name)) return test;
  const runs = bucketRuns(buckets);
  if (runs.length > MAX_RANGES) return test;
  const [lo, width] = [BigInt(b.lo!), BigInt(b.width!)];
  const ref = columnRef(side.key[0]);
  const ranges = runs.map(([first, last]) => {
    const from = lo + BigInt(first) * width;
    const to = lo + BigInt(last + 1) * width;
    return to > INT8_MAX ? `${ref} >= ${from}::int8` : `(${ref} >= ${from}::int8 AND ${ref} < ${to}::int8)`;
  });
  return `(${ranges.join(' OR ')}) AND ${test}`;
}
