/**
 * The set statements that apply one batch to the output table. Rows travel as one
 * typed array per column (`unnest($2::int[], $3::numeric(12,2)[], ...)`), so
 * Postgres parses each column once and merges the whole batch in one statement.
 * Tables with array or composite columns use `jsonb_populate_recordset` instead.
 *
 * Version rule: a row is written only when its `_dr_version` is newer than the
 * stored row's and than any tombstone for its key; a delete removes only an older
 * row and leaves a tombstone, so a late older insert cannot resurrect the key.
 * Stateful transforms (`guardVersions: false`) write last-committed-wins: their rows
 * are computed from keyed state under its lock, and the source versions of
 * different partitions (Kafka offsets) are not comparable.
 */
import { quoteIdent, quoteLiteral } from '../src/identifiers.ts';
import type { JsonRow } from './change-event.ts';
import { META_COLUMNS, type OutputTable } from './output-table.ts';

export interface MergeRow {
  readonly row: JsonRow;
  readonly version: bigint;
  readonly sourceTs: Date;
}

export interface MergeStatements {
  /** `tombstones`: whether the dataset may have tombstones (else the lean statement runs). */
  upsert(rows: readonly MergeRow[], tombstones: boolean): { text: string; values: unknown[] };
  delete(rows: readonly MergeRow[]): { text: string; values: unknown[] };
}

/**
 * Statements for the columns a batch's rows carry: a column the transform leaves out
 * (undefined, not null) keeps its DEFAULT on insert and its stored value on update,
 * instead of being overwritten with NULL. Built once per column set.
 */
export function mergeStatements(out: OutputTable, opts: { guardVersions: boolean } = { guardVersions: true }): MergeStatements {
  const built = new Map<string, MergeStatements>();
  const forRows = (rows: readonly MergeRow[]): MergeStatements => {
    const present = out.dataColumns.filter((c) => out.key.includes(c.name) || rows.some((r) => r.row[c.name] !== undefined));
    const signature = present.map((c) => c.name).join(',');
    let m = built.get(signature);
    if (!m) {
      m = columnSetStatements({ ...out, dataColumns: present, columns: [...present.map((c) => c.name), ...META_COLUMNS] }, opts);
      built.set(signature, m);
    }
    return m;
  };
  return {
    upsert: (rows, tombstones) => forRows(rows).upsert(rows, tombstones),
    delete: (rows) => forRows(rows).delete(rows),
  };
}

function columnSetStatements(out: OutputTable, opts: { guardVersions: boolean }): MergeStatements {
  const t = out.table.sql;
  const q = (c: string) => quoteIdent(c);
  const keyCols = out.key.map(q);
  const recordKey = (a: string) => `jsonb_build_object(${out.key.map((k) => `${quoteLiteral(k)}, ${a}.${q(k)}`).join(', ')})`;
  const keyMatch = (a: string, b: string) => keyCols.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  const cols = out.columns.map(q).join(', ');
  const updates = out.columns.filter((c) => !out.key.includes(c)).map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
  const input = inputRelation(out);
  const guard = opts.guardVersions;
  const upsertSql = `
WITH input AS (${input.sql}),
fresh AS (
  SELECT i.* FROM input i
   ${guard ? `WHERE NOT EXISTS (SELECT 1 FROM dualrun.stream_tombstones tb
                      WHERE tb.dataset = $1 AND tb.record_key = ${recordKey('i')} AND tb.version >= i._dr_version)` : ''}
),
cleared AS (
  DELETE FROM dualrun.stream_tombstones tb USING fresh f
   WHERE tb.dataset = $1 AND tb.record_key = ${recordKey('f')}
)
INSERT INTO ${t} AS o (${cols})
SELECT ${cols} FROM fresh
ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET ${updates}
${guard ? ' WHERE o._dr_version IS NULL OR o._dr_version < EXCLUDED._dr_version' : ''}`;
  // Without tombstones for the dataset there is nothing to check or clear: a plain
  // guarded upsert (the common case; the check costs a jsonb key per row).
  const leanSql = `
INSERT INTO ${t} AS o (${cols})
SELECT ${cols} FROM (${input.sql}) i WHERE $1::text IS NOT NULL
ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET ${updates}
${guard ? ' WHERE o._dr_version IS NULL OR o._dr_version < EXCLUDED._dr_version' : ''}`;
  const deleteSql = `
WITH input AS (${input.sql}),
gone AS (
  DELETE FROM ${t} o USING input d
   WHERE ${keyMatch('o', 'd')} ${guard ? 'AND (o._dr_version IS NULL OR o._dr_version < d._dr_version)' : ''}
)
INSERT INTO dualrun.stream_tombstones (dataset, record_key, version, source_ts)
SELECT $1, ${recordKey('d')}, d._dr_version, d._dr_source_ts FROM input d
 ${guard ? `WHERE NOT EXISTS (SELECT 1 FROM ${t} o WHERE ${keyMatch('o', 'd')} AND o._dr_version >= d._dr_version)` : ''}
ON CONFLICT (dataset, record_key) DO UPDATE SET version = EXCLUDED.version, source_ts = EXCLUDED.source_ts
 WHERE stream_tombstones.version < EXCLUDED.version`;
  return {
    upsert: (rows, tombstones) => ({ text: tombstones ? upsertSql : leanSql, values: input.values(rows) }),
    delete: (rows) => ({ text: deleteSql, values: input.values(rows) }),
  };
}

interface InputRelation { sql: string; values(rows: readonly MergeRow[]): unknown[] }

/** The batch as a relation with the output's column types, `_dr_version` and `_dr_source_ts`. */
function inputRelation(out: OutputTable): InputRelation {
  const data = out.dataColumns;
  const meta = (rows: readonly MergeRow[]) => [rows.map((r) => r.version.toString()), rows.map((r) => r.sourceTs.getTime())];
  if (data.every((c) => c.scalar)) {
    const params = data.map((c, i) => `$${i + 2}::${c.type}[]`);
    const n = data.length + 2;
    const names = data.map((c) => quoteIdent(c.name));
    return {
      sql: `SELECT ${names.map((c) => `u.${c}`).join(', ')}, u._dr_version, to_timestamp(u._dr_ts_ms / 1000.0) AS _dr_source_ts
              FROM unnest(${[...params, `$${n}::bigint[]`, `$${n + 1}::float8[]`].join(', ')}) AS u(${[...names, '_dr_version', '_dr_ts_ms'].join(', ')})`,
      values: (rows) => [...data.map((c) => rows.map((r) => scalarParam(r.row[c.name]))), ...meta(rows)],
    };
  }
  const names = data.map((c) => `j.${quoteIdent(c.name)}`).join(', ');
  return {
    sql: `SELECT ${names}, m.v AS _dr_version, to_timestamp(m.ts / 1000.0) AS _dr_source_ts
            FROM jsonb_populate_recordset(NULL::${out.table.sql}, $2::jsonb) WITH ORDINALITY AS j
            JOIN unnest($3::bigint[], $4::float8[]) WITH ORDINALITY AS m(v, ts, n) ON m.n = j.ordinality`,
    values: (rows) => [JSON.stringify(rows.map((r) => r.row)), ...meta(rows)],
  };
}

/** One element of a typed array parameter: objects (json/jsonb columns) as JSON text. */
function scalarParam(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object' && !(v instanceof Date)) return JSON.stringify(v);
  return v;
}
