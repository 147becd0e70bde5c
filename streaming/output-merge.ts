/**
 * The two set statements that apply one batch to the output table. Rows travel as
 * one JSON array and become typed rows with `jsonb_populate_recordset(NULL::table)`,
 * so Postgres does the type conversion and the merge in one statement per batch.
 *
 * Version rule: a row is written only when its `_dr_version` is newer than the
 * stored row's and than any tombstone for its key; a delete removes only an older
 * row and leaves a tombstone, so a late older insert cannot resurrect the key.
 */
import { quoteIdent } from '../src/identifiers.ts';
import type { OutputTable } from './output-table.ts';

export interface MergeStatements {
  /** $1 dataset, $2 jsonb array of full rows with _dr_version and _dr_source_ts. */
  readonly upsert: string;
  /** $1 dataset, $2 jsonb array of key columns with _dr_version and _dr_source_ts. */
  readonly delete: string;
}

export function mergeStatements(out: OutputTable): MergeStatements {
  const t = out.table.sql;
  const keyCols = out.key.map(quoteIdent);
  const recordKey = (alias: string) => `jsonb_build_object(${out.key.map((k) => `'${k}', ${alias}.${quoteIdent(k)}`).join(', ')})`;
  const keyMatch = (a: string, b: string) => keyCols.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  const cols = out.columns.map(quoteIdent);
  const updates = out.columns.filter((c) => !out.key.includes(c)).map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
  const upsert = `
WITH input AS (SELECT * FROM jsonb_populate_recordset(NULL::${t}, $2::jsonb)),
fresh AS (
  SELECT i.* FROM input i
   WHERE NOT EXISTS (SELECT 1 FROM dualrun.stream_tombstones tb
                      WHERE tb.dataset = $1 AND tb.record_key = ${recordKey('i')} AND tb.version >= i._dr_version)
),
cleared AS (
  DELETE FROM dualrun.stream_tombstones tb USING fresh f
   WHERE tb.dataset = $1 AND tb.record_key = ${recordKey('f')}
)
INSERT INTO ${t} AS o (${cols.join(', ')})
SELECT ${cols.join(', ')} FROM fresh
ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET ${updates.join(', ')}
 WHERE o._dr_version IS NULL OR o._dr_version < EXCLUDED._dr_version`;
  const del = `
WITH input AS (SELECT * FROM jsonb_populate_recordset(NULL::${t}, $2::jsonb)),
gone AS (
  DELETE FROM ${t} o USING input d
   WHERE ${keyMatch('o', 'd')} AND (o._dr_version IS NULL OR o._dr_version < d._dr_version)
)
INSERT INTO dualrun.stream_tombstones (dataset, record_key, version, source_ts)
SELECT $1, ${recordKey('d')}, d._dr_version, d._dr_source_ts FROM input d
 WHERE NOT EXISTS (SELECT 1 FROM ${t} o WHERE ${keyMatch('o', 'd')} AND o._dr_version >= d._dr_version)
ON CONFLICT (dataset, record_key) DO UPDATE SET version = EXCLUDED.version, source_ts = EXCLUDED.source_ts
 WHERE stream_tombstones.version < EXCLUDED.version`;
  return { upsert, delete: del };
}
