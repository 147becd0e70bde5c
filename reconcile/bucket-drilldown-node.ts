/**
 * Drill-down when the sides live in different databases: each side streams only
 * its mismatched buckets' rows, ordered by bucket, through a cursor; Node walks
 * both streams bucket by bucket and compares rows by canonical key. Memory holds
 * one bucket per side plus a cursor fetch, never a table.
 */
import type { SideSession } from './side-session.ts';
import type { KeyPair, SideRows } from './classify-difference.ts';
import { bucketSql, canonicalKeySql, keyJsonSql, rowHashSql, valuesArraySql, windowPredicateSql } from './canonical-row-sql.ts';
import { inBucketsSql } from './bucket-predicate-sql.ts';
import { sourceTsSql, type DrilldownSpec } from './drilldown-spec.ts';
import type { SideSpec } from './window-fingerprint.ts';

interface Row { bk: string; k: string; key: string; h: string; v: (string | null)[]; ts: Date | null }
interface KeyRows extends SideRows { key: string; h: string }

export function sideBucketRowsSql(side: SideSpec, spec: DrilldownSpec, withTs: boolean): string {
  const bucket = bucketSql(side.key, spec.buckets);
  return `SELECT ${bucket} AS bk, ${canonicalKeySql(side.key)} AS k, ${keyJsonSql(side.key)}::text AS key,
       ${rowHashSql(side.key, side.compared, undefined, spec.buckets)}::text AS h, ${valuesArraySql(side.compared)} AS v, ${withTs ? sourceTsSql(side) : 'NULL::timestamptz'} AS ts
  FROM ${side.shape.table.sql}
 WHERE ${windowPredicateSql(side.windowColumn, 1, 2)} AND ${inBucketsSql(side, spec.buckets, spec.mismatched)}
 ORDER BY 1`;
}

/** Groups a bucket-ordered row stream into one array per bucket. */
async function* byBucket(rows: AsyncGenerator<Row>): AsyncGenerator<{ bucket: number; rows: Row[] }> {
  let current: { bucket: number; rows: Row[] } | null = null;
  for await (const r of rows) {
    const b = Number(r.bk);
    if (current && current.bucket !== b) { yield current; current = null; }
    current ??= { bucket: b, rows: [] };
    current.rows.push(r);
  }
  if (current) yield current;
}

function groupByKey(rows: Row[]): Map<string, KeyRows> {
  const m = new Map<string, KeyRows>();
  for (const r of rows) {
    const seen = m.get(r.k);
    if (seen) {
      seen.n += 1;
      if (r.ts && (!seen.sourceTs || r.ts > seen.sourceTs)) seen.sourceTs = r.ts;
    } else {
      m.set(r.k, { n: 1, values: r.v, sourceTs: r.ts, key: r.key, h: r.h });
    }
  }
  return m;
}

function* comparePairs(batchRows: Row[], streamRows: Row[]): Generator<KeyPair> {
  const b = groupByKey(batchRows);
  const s = groupByKey(streamRows);
  for (const [k, br] of b) {
    const sr = s.get(k) ?? null;
    if (sr && br.h === sr.h && br.n === 1 && sr.n === 1) continue;
    yield { k, key: br.key, batch: br, stream: sr };
  }
  for (const [k, sr] of s) if (!b.has(k)) yield { k, key: sr.key, batch: null, stream: sr };
}

export async function* drilldownCrossDatabase(batch: SideSession, stream: SideSession, spec: DrilldownSpec): AsyncGenerator<KeyPair> {
  if (spec.mismatched.length === 0) return;
  const small = spec.candidateRows <= spec.limits.inMemoryRows;
  const bIt = byBucket(batch.rows<Row>(sideBucketRowsSql(spec.batch, spec, false), spec.batch.windowColumn ? spec.batchBounds ?? [] : [], small));
  const sIt = byBucket(stream.rows<Row>(sideBucketRowsSql(spec.stream, spec, true), spec.stream.windowColumn ? spec.streamBounds ?? [] : [], small));
  let bNext = await bIt.next();
  let sNext = await sIt.next();
  while (!bNext.done || !sNext.done) {
    const bb = bNext.done ? Infinity : bNext.value.bucket;
    const sb = sNext.done ? Infinity : sNext.value.bucket;
    const bucket = Math.min(bb, sb);
    const bRows = bb === bucket && !bNext.done ? bNext.value.rows : [];
    const sRows = sb === bucket && !sNext.done ? sNext.value.rows : [];
    yield* comparePairs(bRows, sRows);
    if (bb === bucket) bNext = await bIt.next();
    if (sb === bucket) sNext = await sIt.next();
  }
}
