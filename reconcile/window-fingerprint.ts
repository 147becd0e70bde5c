/**
 * One side's fingerprint of a window, in ONE scan inside Postgres: per bucket
 * (by key: canonical-row-sql.ts) the row count and the sum of 64-bit row hashes; from
 * those, the window's count and checksum; plus sums of numeric columns.
 *
 * The hashes are summed exactly: Postgres sums bigints in a 128-bit accumulator.
 */
import { logicalName, type ColumnInfo, type TableShape } from './table-columns.ts';
import type { SideFingerprint } from './types.ts';
import { SUMMABLE, bucketSql, columnRef, rowHashSql, windowPredicateSql, type Bucketing } from './canonical-row-sql.ts';
import { withLocalSettings, type SideSession } from './side-session.ts';
import { FINGERPRINT_PLAN } from './scan-settings.ts';
import { ROW_AGE_SQL, xminSumSql } from '../src/core/cutover/row-versions.ts';

export interface SideSpec {
  shape: TableShape;
  key: ColumnInfo[];
  compared: ColumnInfo[];
  /** The window column on this side; null for a whole-table comparison. */
  windowColumn: ColumnInfo | null;
}

/** A fingerprint and, when asked, which transactions wrote the rows (src/core/cutover/row-versions.ts). */
export interface SideScan extends BucketedFingerprint { xminSum: string | null }

export interface BucketedFingerprint {
  fingerprint: SideFingerprint;
  /** bucket -> `count:hashsum`; buckets without rows are absent. */
  buckets: Map<number, string>;
}

/** `rowVersions`: also the rows' xmin sum (`xmin_sum`), read in the same scan (a table with row versions only). */
export function fingerprintSql(side: SideSpec, buckets: Bucketing, rowVersions = false): string {
  const sums = side.compared.filter((c) => SUMMABLE.has(c.type));
  const isFloat = (c: ColumnInfo) => c.type.startsWith('float');
  // Floats are summed as float8 scaled down by 2^-64: Postgres's float sum raises an error on
  // overflow (two rows of 1e308, or of 3e38 in a float4), which would fail the whole window over a
  // figure that is only shown. Scaling by a power of two is exact; values below 2^-900 (~1e-271)
  // count as 0 (scaled, they would raise an underflow error; beside any larger value they are
  // below its last digit anyway). A sum too large to scale back is ±Infinity.
  const sumIn = sums.map((c, i) => `, ${isFloat(c) ? scaledFloatSql(columnRef(c)) : columnRef(c)} AS c${i}`).join('');
  const sumCols = sums.map((_, i) => `, sum(r.c${i}) AS s${i}`).join('');
  // Sums as trimmed decimals, so numeric(12,2) and numeric sides print alike (floats as they are).
  const sumOut = sums.map((c, i) => (isFloat(c) ? `, ${floatSumSql(`sum(s${i})`)}::text AS s${i}` : `, trim_scale(sum(s${i})::numeric)::text AS s${i}`)).join('');
  // Grouped straight by the bucket, hashed (sorting is off: FINGERPRINT_PLAN). Range buckets look
  // to the planner like one group per key, so each side runs as one process, both sides at once.
  const ageIn = rowVersions ? `, ${ROW_AGE_SQL} AS xa` : '';
  const ageSum = rowVersions ? ', sum(r.xa) AS xs' : '';
  const xminOut = rowVersions ? `, ${xminSumSql('coalesce(sum(n), 0)', 'sum(xs)')} AS xmin_sum` : '';
  return `WITH g AS (
  SELECT r.bk AS b, count(*) AS n, sum(r.h) AS hs${sumCols}${ageSum}
    FROM (SELECT ${bucketSql(side.key, buckets)} AS bk, ${rowHashSql(side.key, side.compared, undefined, buckets)} AS h${sumIn}${ageIn}
            FROM ${side.shape.table.sql}
           WHERE ${windowPredicateSql(side.windowColumn, 1, 2)}) r
   GROUP BY r.bk
)
SELECT coalesce(sum(n), 0)::text AS rows,
       coalesce(sum(hs), 0)::text AS hashsum,
       pg_catalog.array_agg(b)::text AS bucket_ids,
       pg_catalog.array_agg(n::text || ':' || hs::text)::text AS bucket_sums${sumOut}${xminOut}
  FROM g`;
}

/** 2^-64 and 2^64 as float8 (powers of two: scaling by them is exact for normal numbers). */
const FLOAT_SCALE_DOWN = `'5.421010862427522e-20'::float8`;
const FLOAT_SCALE_UP = `'18446744073709551616'::float8`;

/** One float scaled by 2^-64 for summing (see fingerprintSql); NULL stays NULL, NaN and ±Infinity stay. */
function scaledFloatSql(ref: string): string {
  return `(CASE WHEN abs(${ref}::float8) < '1.1830521861667747e-271'::float8 THEN 0::float8 ELSE ${ref}::float8 * ${FLOAT_SCALE_DOWN} END)`;
}

/** A sum of floats scaled by 2^-64, scaled back; ±Infinity where the real sum exceeds float8 (NaN stays NaN). */
function floatSumSql(scaled: string): string {
  return `(CASE WHEN abs(${scaled}) <= '1.7976931348623157e308'::float8 / ${FLOAT_SCALE_UP} THEN ${scaled} * ${FLOAT_SCALE_UP} ELSE ${scaled} * 'Infinity'::float8 END)`;
}

export async function fingerprintSide(session: SideSession, side: SideSpec, buckets: Bucketing, bounds: [string, string] | null, rowVersions = false): Promise<SideScan> {
  const sql = fingerprintSql(side, buckets, rowVersions);
  const params = side.windowColumn && bounds ? bounds : [];
  const row = await withLocalSettings(session, FINGERPRINT_PLAN, async () => (await session.client.query<Record<string, string | null>>(sql, params)).rows[0]);
  const ids = parseArray(row.bucket_ids);
  const sums = parseArray(row.bucket_sums);
  const map = new Map<number, string>();
  ids.forEach((id, i) => map.set(Number(id), sums[i]));
  const colSums: Record<string, string | null> = {};
  side.compared.filter((c) => SUMMABLE.has(c.type)).forEach((c, i) => (colSums[logicalName(c)] = row[`s${i}`] ?? null));
  return { fingerprint: { rows: Number(row.rows), checksum: checksumHex(row.hashsum ?? '0'), sums: colSums }, buckets: map, xminSum: row.xmin_sum ?? null };
}

/** The exact sum of hashes reduced modulo 2^64, as 16 hex digits (order-independent). */
export function checksumHex(decimalSum: string): string {
  const m = 1n << 64n;
  return (((BigInt(decimalSum) % m) + m) % m).toString(16).padStart(16, '0');
}

/** Postgres array text of plain numbers/tokens (no quoting needed): `{1,2,3}`. */
function parseArray(text: string | null): string[] {
  if (!text || text === '{}') return [];
  return text.slice(1, -1).split(',');
}

/** Buckets whose count or hash sum differ between the sides. */
export function mismatchedBuckets(batch: Map<number, string>, stream: Map<number, string>): number[] {
  const out: number[] = [];
  for (const [b, v] of batch) if (stream.get(b) !== v) out.push(b);
  for (const b of stream.keys()) if (!batch.has(b)) out.push(b);
  return out.sort((x, y) => x - y);
}

/** Rows both sides hold in the given buckets. */
export function rowsInBuckets(buckets: readonly number[], ...sides: Map<number, string>[]): number {
  let n = 0;
  for (const side of sides) for (const b of buckets) n += Number(side.get(b)?.split(':')[0] ?? 0);
  return n;
}
