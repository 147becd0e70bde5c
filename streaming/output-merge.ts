/**
 * The set statements that apply one batch to the output table. Rows travel as one
 * array per column of the column's base type (`unnest($2::int4[], $3::numeric[], ...)`),
 * so Postgres parses each column once and merges the whole batch in one statement.
 * Tables with array or composite columns use `jsonb_populate_recordset` instead.
 *
 * Values are never altered on the way in: an explicit `::varchar(5)[]` cast would
 * truncate and assignment to numeric(12,2) or timestamp(0) rounds, silently. So
 * values are bound without the type modifier, and each value of a column with a
 * modifier is compared with itself cast to the column type; a value that would
 * change raises (dualrun.refuse_changed_value), a data error the sink turns into an
 * `apply` dead letter. Over-long values fail on assignment with Postgres's own 22001.
 *
 * Every change of the batch is bound, also the older changes of a key that only
 * get checked (`write: false`): whether a record is bad never depends on what else
 * is in its batch. The input is MATERIALIZED so each row is evaluated in full.
 *
 * Version rule: a row is written only when its `_dr_version` is newer than the
 * stored row's and than any tombstone for its key; a delete removes only an older
 * row and leaves a tombstone, so a late older insert cannot resurrect the key.
 * Stateful transforms (`guardVersions: false`) write last-committed-wins: their rows
 * are computed from keyed state under its lock, and the source versions of
 * different partitions (Kafka offsets) are not comparable.
 */
import crypto from 'node:crypto';
import { quoteIdent, quoteLiteral } from '../src/core/identifiers.ts';
import { byteaHex, copyField } from './copy-text.ts';
import { stringifyExact } from './exact-number.ts';
import type { JsonRow } from './change-event.ts';
import { META_COLUMNS, type OutputColumn, type OutputTable } from './output-table.ts';

export interface MergeRow {
  readonly row: JsonRow;
  readonly version: bigint;
  readonly sourceTs: Date;
  /** false: only checked (a newer change of the same key in the batch is the one written). */
  readonly write: boolean;
}

export interface MergeStatements {
  /** The output's own columns (no metadata), for the value checks before binding. */
  readonly columns: readonly OutputColumn[];
  /** Which of a key's changes with the same version is written: the first when versions are guarded (see `newestPerKey`). */
  readonly ties: 'first' | 'last';
  /** `tombstones`: whether the dataset may have tombstones (else the lean statement runs). */
  upsert(rows: readonly MergeRow[], tombstones: boolean): { text: string; values: unknown[] };
  delete(rows: readonly MergeRow[]): { text: string; values: unknown[] };
  /** The COPY path for these upserts; null when the table has array or composite columns (they take the jsonb path). */
  staged(ups: readonly MergeRow[], tombstones: boolean): StagedMerge | null;
  /** The staging table that collects several batches in one transaction (for these upserts' column set); null as for `staged`. */
  collecting(ups: readonly { readonly row: JsonRow }[]): CollectingStage | null;
  /**
   * `changes` cut into consecutive runs whose upserts leave out the same columns (deletes stay in
   * their place), each to be merged on its own in source order; one run, the array itself, when all
   * upserts carry the same columns. A merge writes every column any of its rows carries, so a row
   * that left one out beside a row that did not had it set to NULL.
   */
  runs<T extends { readonly kind: 'upsert' | 'delete'; readonly row: JsonRow }>(changes: readonly T[]): readonly (readonly T[])[];
}

/** One change as a collecting stage holds it: upserts and deletes in one table, in source order. */
export interface CollectedChange {
  readonly kind: 'upsert' | 'delete';
  readonly row: JsonRow;
  readonly version: bigint;
  readonly sourceTs: Date;
}

/**
 * Several batches' changes in one staging table, merged once: `prepare` (create the
 * session's table if needed, empty it), `COPY copy FROM STDIN` with `data(changes,
 * firstSeq)` for each batch, then `upsert` (or `lean` without tombstones) or, when
 * deletes were staged, `upsertAndDelete`, with `[dataset]`. Which change of a key is
 * written is decided in the merge (the newest version; on a tie as `newestPerKey`), so
 * node keeps nothing of a batch once it is copied. Every staged change is checked
 * as in `staged`, also those not written.
 */
export interface CollectingStage {
  /** The column set: changes of another set go to another stage. */
  readonly signature: string;
  readonly prepare: string;
  readonly copy: string;
  data(changes: readonly CollectedChange[], firstSeq: number): string;
  readonly upsert: string;
  readonly lean: string;
  /**
   * Upserts and deletes in one statement: the newest change per key is ranked once.
   * Its two writes touch disjoint keys (a key's newest change is one or the other), so
   * one snapshot serves both as the two statements in sequence would.
   */
  readonly upsertAndDelete: string;
}

/**
 * A batch's upserts through a staging table: `prepare` (one simple-protocol string:
 * create the session's temporary table if needed, empty it), `COPY copy FROM STDIN`
 * with `data`, then `upsert` with `[dataset]`: the unnest path's statement reading the
 * staging table instead of the arrays, so both paths check and write the same way.
 * Deletes stay on unnest arrays: they are few, carry only the key, and the planner's
 * small estimate for unnest keeps their joins on the output's key index (an
 * unanalysed staging table made it scan the whole output for every batch).
 */
export interface StagedMerge {
  readonly prepare: string;
  readonly copy: string;
  readonly data: string;
  readonly upsert: string;
}

/**
 * Statements for the columns a batch's rows carry: a column the transform leaves out
 * (undefined, not null) keeps its DEFAULT on insert and its stored value on update,
 * instead of being overwritten with NULL. Built once per column set.
 */
export function mergeStatements(out: OutputTable, opts: { guardVersions: boolean } = { guardVersions: true }): MergeStatements {
  const built = new Map<string, MergeStatements>();
  const forRows = (rows: readonly { readonly row: JsonRow }[]): MergeStatements => {
    const present = out.dataColumns.filter((c) => out.key.includes(c.name) || rows.some((r) => r.row[c.name] !== undefined));
    const signature = present.map((c) => c.name).join(',');
    let m = built.get(signature);
    if (!m) {
      m = columnSetStatements({ ...out, dataColumns: present, columns: [...present.map((c) => c.name), ...META_COLUMNS] }, opts);
      built.set(signature, m);
    }
    return m;
  };
  const optional = out.dataColumns.filter((c) => !out.key.includes(c.name)).map((c) => c.name);
  return {
    columns: out.dataColumns,
    ties: tieRule(opts.guardVersions),
    runs: (changes) => columnRuns(changes, optional),
    upsert: (rows, tombstones) => forRows(rows).upsert(rows, tombstones),
    delete: (rows) => forRows(rows).delete(rows),
    staged: (ups, tombstones) => forRows(ups).staged(ups, tombstones),
    collecting: (ups) => forRows(ups).collecting(ups),
  };
}

/** Whether two rows leave out the same of `columns` (a plain loop: no closure per row). */
function sameColumns(a: JsonRow, b: JsonRow, columns: readonly string[]): boolean {
  for (let i = 0; i < columns.length; i++) if ((a[columns[i]] === undefined) !== (b[columns[i]] === undefined)) return false;
  return true;
}

function columnRuns<T extends { readonly kind: 'upsert' | 'delete'; readonly row: JsonRow }>(changes: readonly T[], columns: readonly string[]): readonly (readonly T[])[] {
  let first: JsonRow | null = null;
  let mixed = false;
  for (const ch of changes) {
    if (ch.kind !== 'upsert') continue;
    if (first === null) first = ch.row;
    else if (!sameColumns(first, ch.row, columns)) { mixed = true; break; }
  }
  if (!mixed) return [changes];
  const runs: T[][] = [];
  let run: T[] = [];
  let last: JsonRow | null = null;
  for (const ch of changes) {
    if (ch.kind === 'upsert') {
      if (last !== null && !sameColumns(last, ch.row, columns)) { runs.push(run); run = []; }
      last = ch.row;
    }
    run.push(ch);
  }
  runs.push(run);
  return runs;
}

/** Which of a key's changes with one version is written (see `newestPerKey`). */
function tieRule(guardVersions: boolean): 'first' | 'last' {
  return guardVersions ? 'first' : 'last';
}

function columnSetStatements(out: OutputTable, opts: { guardVersions: boolean }): MergeStatements {
  const input = inputRelation(out, opts.guardVersions);
  const sql = mergeSql(out, opts.guardVersions);
  const arrays = { upsert: sql.upsert(input.sql), lean: sql.lean(input.sql), delete: sql.delete(input.sql) };
  const stage = input.stage;
  const staged = stage && { upsert: sql.upsert(stage.select), lean: sql.lean(stage.select) };
  const collect = input.collecting;
  const collecting: CollectingStage | null = collect && {
    signature: out.dataColumns.map((c) => c.name).join(','), prepare: collect.prepare, copy: collect.copy, data: collect.data,
    upsert: sql.upsert(collect.upserts), lean: sql.lean(collect.upserts),
    upsertAndDelete: sql.upsertAndDelete(collect.ranked, collect.fromRanked(false), collect.fromRanked(true)),
  };
  return {
    columns: out.dataColumns,
    ties: tieRule(opts.guardVersions),
    runs: (changes) => [changes],
    upsert: (rows, tombstones) => ({ text: tombstones ? arrays.upsert : arrays.lean, values: input.values(rows) }),
    delete: (rows) => ({ text: arrays.delete, values: input.values(rows) }),
    staged: (ups, tombstones) => (stage && staged ? { prepare: stage.prepare, copy: stage.copy, data: stage.data(ups), upsert: tombstones ? staged.upsert : staged.lean } : null),
    collecting: () => collecting,
  };
}

/** The upsert (tombstone-aware and lean) and delete statements over an input relation (`$1`: the dataset). */
function mergeSql(out: OutputTable, guard: boolean) {
  const t = out.table.sql;
  const q = (c: string) => quoteIdent(c);
  const keyCols = out.key.map(q);
  const recordKey = (a: string) => `jsonb_build_object(${out.key.map((k) => `${quoteLiteral(k)}, ${a}.${q(k)}`).join(', ')})`;
  const keyMatch = (a: string, b: string) => keyCols.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  const cols = out.columns.map(q).join(', ');
  // Key columns too: a key Postgres finds equal may be spelled otherwise (numeric 1 and 1.0, citext's
  // case), and the newer change's spelling is the value. An unchanged key stays a HOT update (same bytes).
  const updates = out.columns.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
  // One join with the tombstones (at most one per key) serves both the version check and
  // the clearing of the tombstones the batch supersedes. Both parts read the CTE `input`.
  // At one version an upsert wins over a delete (newestPerKey): a tombstone of the same
  // version does not hold back the row, and a delete leaves a row of its version alone.
  const upsertParts = `keyed AS MATERIALIZED (
  SELECT i.*, tb.record_key AS _dr_tomb_key, tb.version AS _dr_tomb_version
    FROM input i LEFT JOIN dualrun.stream_tombstones tb ON tb.dataset = $1 AND tb.record_key = ${recordKey('i')}
   WHERE i._dr_write
),
cleared AS (
  DELETE FROM dualrun.stream_tombstones tb USING keyed k
   WHERE tb.dataset = $1 AND tb.record_key = k._dr_tomb_key ${guard ? 'AND k._dr_tomb_version <= k._dr_version' : ''}
)`;
  const upsertWrite = `INSERT INTO ${t} AS o (${cols})
SELECT ${cols} FROM keyed
${guard ? ' WHERE keyed._dr_tomb_version IS NULL OR keyed._dr_tomb_version <= keyed._dr_version' : ''}
ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET ${updates}
${guard ? ' WHERE o._dr_version IS NULL OR o._dr_version < EXCLUDED._dr_version' : ''}`;
  const upsert = (input: string) => `
WITH input AS MATERIALIZED (${input}),
${upsertParts}
${upsertWrite}`;
  // Without tombstones for the dataset there is nothing to check or clear: a plain
  // guarded upsert (the common case; the check costs a jsonb key per row).
  const lean = (input: string) => `
WITH input AS MATERIALIZED (${input})
INSERT INTO ${t} AS o (${cols})
SELECT ${cols} FROM input i WHERE i._dr_write AND $1::text IS NOT NULL
ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET ${updates}
${guard ? ' WHERE o._dr_version IS NULL OR o._dr_version < EXCLUDED._dr_version' : ''}`;
  // The deletes of the CTE `rel`: remove older rows, leave a tombstone.
  const deleteParts = (rel: string) => `gone AS (
  DELETE FROM ${t} o USING ${rel} d
   WHERE d._dr_write AND ${keyMatch('o', 'd')} ${guard ? 'AND (o._dr_version IS NULL OR o._dr_version < d._dr_version)' : ''}
)`;
  const deleteWrite = (rel: string) => `INSERT INTO dualrun.stream_tombstones (dataset, record_key, version, source_ts)
SELECT $1, ${recordKey('d')}, d._dr_version, d._dr_source_ts FROM ${rel} d WHERE d._dr_write
 ${guard ? `AND NOT EXISTS (SELECT 1 FROM ${t} o WHERE ${keyMatch('o', 'd')} AND o._dr_version >= d._dr_version)` : ''}
ON CONFLICT (dataset, record_key) DO UPDATE SET version = EXCLUDED.version, source_ts = EXCLUDED.source_ts
 WHERE stream_tombstones.version < EXCLUDED.version`;
  const del = (input: string) => `
WITH input AS MATERIALIZED (${input}),
${deleteParts('input')}
${deleteWrite('input')}`;
  const upsertAndDelete = (ranked: string, ups: string, dels: string) => `
WITH ranked AS MATERIALIZED (${ranked}),
input AS MATERIALIZED (${ups}),
${upsertParts},
upserted AS (${upsertWrite}),
deletes AS MATERIALIZED (${dels}),
${deleteParts('deletes')}
${deleteWrite('deletes')}`;
  return { upsert, lean, delete: del, upsertAndDelete };
}

interface InputRelation {
  sql: string;
  values(rows: readonly MergeRow[]): unknown[];
  /** All-scalar tables: the same relation read from a staging table filled by COPY. */
  stage: { prepare: string; copy: string; select: string; data(rows: readonly MergeRow[]): string } | null;
  /** All-scalar tables: a staging table collecting several batches (upserts and deletes), merged in one ranking. */
  collecting: {
    prepare: string; copy: string; data(rows: readonly CollectedChange[], firstSeq: number): string;
    /** The staged upserts that are their key's newest change (each marked `_dr_write`). */
    upserts: string;
    /** Every key's newest staged change so marked; and one kind of them read from the CTE `ranked`. */
    ranked: string; fromRanked(deletes: boolean): string;
  } | null;
}

/** Types whose `=` is value equality across modifiers; others compare as text (stricter). */
const EQUALITY_TYPES = new Set(['numeric', 'varchar', 'bpchar', 'varbit', 'bit', 'timestamp', 'timestamptz', 'time', 'timetz', 'interval']);
const TRUNCATION_TYPES = new Set(['varchar', 'bpchar', 'varbit', 'bit']);

/**
 * `given` (of the base type) as the column type, raising when the cast would change it.
 * CASE evaluates the ELSE branch only for a value that differs.
 */
function exactValue(c: OutputColumn, given: string): string {
  if (!c.typmod) return given;
  const cast = `(${given})::${c.type}`;
  // An array compares element by element with its element type's `=` ({1.5} = {1.50}).
  const typname = c.elementTypname ?? c.typname;
  const same = EQUALITY_TYPES.has(typname) ? `${given} = ${cast}` : `${given}::text = ${cast}::text`;
  const code = TRUNCATION_TYPES.has(typname) ? '22001' : '22000';
  return `CASE WHEN ${given} IS NULL OR ${same} THEN ${cast} ELSE dualrun.refuse_changed_value(${quoteLiteral(c.name)}, ${quoteLiteral(c.type)}, ${given}::text, ${cast}::text, '${code}')::${c.type} END`;
}

/** The batch as a relation with the output's column types, `_dr_version`, `_dr_source_ts` and `_dr_write`. */
function inputRelation(out: OutputTable, guard: boolean): InputRelation {
  const data = out.dataColumns;
  const meta = (rows: readonly MergeRow[]) => [rows.map((r) => r.version.toString()), rows.map((r) => r.sourceTs.getTime()), rows.map((r) => r.write)];
  if (data.every((c) => c.scalar)) {
    const params = data.map((c, i) => `$${i + 2}::${c.baseType}[]`);
    const n = data.length + 2;
    const names = data.map((c) => quoteIdent(c.name));
    const aliases = data.map((_, i) => `c${i}`);
    const select = `SELECT ${data.map((c, i) => `${exactValue(c, `u.${aliases[i]}`)} AS ${names[i]}`).join(', ')}, u._dr_version, to_timestamp(u._dr_ts_ms / 1000.0) AS _dr_source_ts, u._dr_write`;
    return {
      sql: `${select}
              FROM unnest(${[...params, `$${n}::bigint[]`, `$${n + 1}::float8[]`, `$${n + 2}::bool[]`].join(', ')}) AS u(${[...aliases, '_dr_version', '_dr_ts_ms', '_dr_write'].join(', ')})`,
      values: (rows) => [...data.map((c) => rows.map((r) => scalarParam(r.row[c.name]))), ...meta(rows)],
      stage: stagingTable(data, select, aliases),
      collecting: collectingTable(data, select, aliases, out.key.map((k) => aliases[data.findIndex((c) => c.name === k)]), guard),
    };
  }
  // Scalar columns with a modifier are checked against their JSON text read as the base type.
  // json/jsonb columns read a string as JSON text, as the unnest path does (an exact number reaches them as its text).
  // Array columns with a modifier (numeric(12,2)[]) are read as the base array type (jsonb_to_record, `g`) and
  // checked the same way: jsonb_populate_record applies the modifier to each element and rounds (1.005 to 1.01).
  const arrays = data.filter((c) => c.category === 'A' && c.typmod);
  const cols = data.map((c) => (c.scalar && (c.typmod || c.typname === 'json' || c.typname === 'jsonb')
    ? `${exactValue(c, `(e.elem ->> ${quoteLiteral(c.name)})::${c.baseType}`)} AS ${quoteIdent(c.name)}`
    : arrays.includes(c) ? `${exactValue(c, `g.${quoteIdent(c.name)}`)} AS ${quoteIdent(c.name)}` : `j.${quoteIdent(c.name)}`));
  const asBase = arrays.length === 0 ? ''
    : `\n            CROSS JOIN LATERAL jsonb_to_record(e.elem) AS g(${arrays.map((c) => `${quoteIdent(c.name)} ${c.baseType}`).join(', ')})`;
  return {
    sql: `SELECT ${cols.join(', ')}, m.v AS _dr_version, to_timestamp(m.ts / 1000.0) AS _dr_source_ts, m.w AS _dr_write
            FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(elem, n)
            CROSS JOIN LATERAL jsonb_populate_record(NULL::${out.table.sql}, e.elem) AS j${asBase}
            JOIN unnest($3::bigint[], $4::float8[], $5::bool[]) WITH ORDINALITY AS m(v, ts, w, n) ON m.n = e.n`,
    values: (rows) => [stringifyExact(rows.map((r) => r.row)), ...meta(rows)],
    stage: null,
    collecting: null,
  };
}

/**
 * The session's staging table for a list of column types (shared by every column set
 * with the same types): temporary, emptied at each commit and before each use.
 */
function stagingTable(data: readonly OutputColumn[], select: string, aliases: readonly string[]): NonNullable<InputRelation['stage']> {
  const t = sessionTable('dr_stage', data, aliases, [['_dr_version', 'bigint'], ['_dr_ts_ms', 'float8'], ['_dr_write', 'bool']]);
  return {
    prepare: t.prepare,
    copy: t.copy,
    select: `${select} FROM pg_temp.${t.name} u`,
    data: (rows) => {
      let text = '';
      for (const r of rows) text += `${copyFields(data, r.row)}${r.version}\t${r.sourceTs.getTime()}\t${r.write ? 't' : 'f'}\n`;
      return text;
    },
  };
}

/**
 * The session's collecting table for a list of column types: like `stagingTable`, plus
 * whether a change is a delete and its order (`_dr_seq`). The merge writes each key's
 * newest version, on a tie the change `newestPerKey` would keep (the first, when versions
 * are guarded), so where a transaction or a batch ends never changes what is written.
 * Every staged value is checked first (one scan, before the ranking reads a row), so a
 * change nobody writes is refused as in a batch; the ranking itself is one sort
 * (DISTINCT ON: on 133k changes about half the cost of a row_number() window).
 */
function collectingTable(data: readonly OutputColumn[], select: string, aliases: readonly string[], keyAliases: readonly string[], guard: boolean): NonNullable<InputRelation['collecting']> {
  const t = sessionTable('dr_collect', data, aliases, [['_dr_version', 'bigint'], ['_dr_ts_ms', 'float8'], ['_dr_delete', 'bool'], ['_dr_seq', 'bigint']]);
  const checks = data.flatMap((c, i) => (c.typmod ? [`count(${exactValue(c, `a.${aliases[i]}`)})`] : []));
  const checked = checks.length === 0 ? '' : ` WHERE (SELECT ${checks.join(' + ')} FROM pg_temp.${t.name} a) >= 0`;
  const keys = keyAliases.map((a) => `s.${a}`).join(', ');
  const ranked = `SELECT DISTINCT ON (${keys}) s.*, true AS _dr_write FROM pg_temp.${t.name} s${checked} ORDER BY ${keys}, s._dr_version DESC, ${guard ? 's._dr_delete, s._dr_seq ASC' : 's._dr_seq DESC'}`;
  const kind = (deletes: boolean) => `WHERE ${deletes ? '' : 'NOT '}u._dr_delete`;
  return {
    prepare: t.prepare,
    copy: t.copy,
    upserts: `${select} FROM (${ranked}) u ${kind(false)}`,
    ranked,
    fromRanked: (deletes) => `${select} FROM ranked u ${kind(deletes)}`,
    data: (rows, firstSeq) => {
      let text = '';
      let seq = firstSeq;
      for (const r of rows) text += `${copyFields(data, r.row)}${r.version}\t${r.sourceTs.getTime()}\t${r.kind === 'delete' ? 't' : 'f'}\t${seq++}\n`;
      return text;
    },
  };
}

/** A temporary table of the data columns' base types plus `meta` columns, named by its definition: create-if-needed and empty, and its COPY. */
function sessionTable(prefix: string, data: readonly OutputColumn[], aliases: readonly string[], meta: readonly (readonly [string, string])[]): { name: string; prepare: string; copy: string } {
  const defs = [...data.map((c, i) => `${aliases[i]} ${c.baseType}`), ...meta.map(([n, type]) => `${n} ${type}`)];
  const name = `${prefix}_${crypto.createHash('sha1').update(defs.join(',')).digest('hex').slice(0, 16)}`;
  return {
    name,
    prepare: `CREATE TEMPORARY TABLE IF NOT EXISTS ${name} (${defs.join(', ')}) ON COMMIT DELETE ROWS; TRUNCATE pg_temp.${name}`,
    copy: `COPY pg_temp.${name} (${[...aliases, ...meta.map(([n]) => n)].join(', ')}) FROM STDIN`,
  };
}

/** A row's data fields in COPY text, each followed by a tab. */
function copyFields(data: readonly OutputColumn[], row: JsonRow): string {
  let text = '';
  for (const c of data) text += `${copyField(row[c.name])}\t`;
  return text;
}

/** One element of a typed array parameter: objects (json/jsonb columns) as JSON text. */
function scalarParam(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof Uint8Array) return byteaHex(v);
  if (typeof v === 'object' && !(v instanceof Date)) return stringifyExact(v);
  return v;
}
