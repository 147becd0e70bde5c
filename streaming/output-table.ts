/**
 * The stream output table as the sink sees it: it must exist (its columns are the
 * user's); the sink adds the metadata columns `_dr_version bigint` and
 * `_dr_source_ts timestamptz` when missing, and a unique index on the dataset key
 * when none covers exactly the key (the merge is `ON CONFLICT (key)`).
 */
import { configMistake } from '../src/core/config/config-mistake.ts';
import { caseHint } from '../src/core/db/table-catalog.ts';
import { didYouMean } from '../src/core/nearest-name.ts';
import { DualrunError } from '../src/core/errors.ts';
import { boundedName, quoteIdent, type TableRef } from '../src/core/identifiers.ts';
import { inTransaction, type Pool } from '../src/core/db/connect.ts';

export interface OutputColumn {
  readonly name: string;
  /** `format_type` of the column, e.g. `numeric(12,2)`. */
  readonly type: string;
  /** The type without its modifier, as bound (`numeric`, `varchar`, `varbit` for bit(n)). */
  readonly baseType: string;
  /** Whether the column's type has a modifier (length, precision, scale, fields) that a cast may apply. */
  readonly typmod: boolean;
  /** pg_type.typcategory of the (domain's base) type: D date/time, N numeric, B boolean, T interval, ... */
  readonly category: string;
  /** pg_type.typname of the (domain's base) type, e.g. `int4`, `timestamptz`. */
  readonly typname: string;
  /** Arrays and composites cannot travel as one element of a typed array parameter. */
  readonly scalar: boolean;
  /** For an array column, the pg_type.typname of its (domain's base) element type (`timestamptz` for timestamptz[]); else null. */
  readonly elementTypname: string | null;
}

export interface OutputTable {
  readonly table: TableRef;
  readonly key: readonly string[];
  /** Columns the sink writes (generated columns excluded), metadata included. */
  readonly columns: readonly string[];
  /** The user's columns (no metadata), with their types. */
  readonly dataColumns: readonly OutputColumn[];
}

export const META_COLUMNS = ['_dr_version', '_dr_source_ts'];

/** `named`: the config file and dataset whose stream.output this is, so a missing table or key column names them (exit 2). */
export async function prepareOutputTable(db: Pool, table: TableRef, key: readonly string[], named?: { file: string | null; dataset: string }): Promise<OutputTable> {
  const mistake = (field: string, message: string, cause?: unknown) => (named
    ? configMistake(named.file, [{ at: `datasets.${named.dataset}.${field}`, message }], { dataset: named.dataset }, cause)
    : new DualrunError('DUALRUN_CONFIG_INVALID', `${field} ${message}`, { cause }));
  const exists = await db.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [table.sql]);
  if (!exists.rows[0].oid) {
    throw mistake('stream.output', `${table.text} does not exist${await caseHint(db, table)}: create it with the dataset's columns (dualrun migrate does; the sink adds _dr_version and _dr_source_ts)`);
  }
  // ALTER TABLE takes an ACCESS EXCLUSIVE lock even when nothing changes: only when needed.
  const meta = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = $1::regclass AND attname = ANY($2) AND NOT attisdropped`, [table.sql, META_COLUMNS]);
  if (meta.rows[0].n < META_COLUMNS.length) {
    await oneAtATime(db, table, `ALTER TABLE ${table.sql} ADD COLUMN IF NOT EXISTS _dr_version bigint, ADD COLUMN IF NOT EXISTS _dr_source_ts timestamptz`);
  }
  const cols = await db.query<{ name: string; type: string; category: string; typtype: string; base: string; typname: string; typmod: boolean; element: string | null }>(
    // A domain is bound as its base type; the cast to the domain applies its checks and modifier.
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, b.typcategory::text AS category, t.typtype::text AS typtype,
            b.typname::text AS typname,
            CASE b.typname WHEN 'bit' THEN 'pg_catalog.varbit' ELSE format('%I.%I', bn.nspname, b.typname) END AS base,
            (a.atttypmod >= 0 OR (t.typtype = 'd' AND t.typtypmod >= 0)) AS typmod, eb.typname::text AS element
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
       JOIN pg_namespace bn ON bn.oid = b.typnamespace
       LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
       LEFT JOIN pg_type eb ON eb.oid = CASE WHEN e.typtype = 'd' THEN e.typbasetype ELSE e.oid END
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`, [table.sql]);
  const columns = cols.rows.map((r) => r.name);
  const missing = key.filter((k) => !columns.includes(k));
  if (missing.length > 0) throw mistake('key', `stream.output ${table.text} has no key column ${missing.join(', ')}${didYouMean(missing[0], columns)}`);
  await ensureKeyIndex(db, table, key, (detail, cause) => mistake('key', `stream.output ${table.text} holds several rows with one key (${detail}), so the sink cannot upsert by it: the key does not identify a row (correct the key) or the rows are duplicates (remove them)`, cause));
  const dataColumns = cols.rows.filter((r) => !META_COLUMNS.includes(r.name))
    .map((r) => ({ name: r.name, type: r.type, baseType: r.base, typmod: r.typmod, category: r.category, typname: r.typname, scalar: r.category !== 'A' && r.typtype !== 'c', elementTypname: r.element }));
  return { table, key, columns, dataColumns };
}

/** `duplicated`: the error for rows that already share a key (the unique index cannot be built: 23505). */
async function ensureKeyIndex(db: Pool, table: TableRef, key: readonly string[], duplicated: (detail: string, cause: unknown) => Error): Promise<void> {
  const r = await db.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE "C") AS cols
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid`, [table.sql]);
  // Both sides in byte order (COLLATE "C" above, code units here): a mixed-case key must compare equal.
  const want = [...key].sort().join(',');
  if (r.rows.some((row) => row.cols.join(',') === want)) return;
  const name = quoteIdent(boundedName(`${table.name}_dr_key`));
  try {
    await oneAtATime(db, table, `CREATE UNIQUE INDEX IF NOT EXISTS ${name} ON ${table.sql} (${key.map(quoteIdent).join(', ')})`);
  } catch (e) {
    const pgError = e as { code?: string; detail?: string; constraint?: string };
    // Not the catalog's own unique index (two sessions creating it at once is serialised above).
    if (pgError.code === '23505' && pgError.constraint !== 'pg_class_relname_nsp_index') throw duplicated(pgError.detail?.replace(/\.$/, '') ?? 'a key is duplicated', e);
    throw e;
  }
}

/**
 * The sink's DDL on an output, one worker at a time: `IF NOT EXISTS` does not guard two
 * sessions creating the same column or index at once, and the second failed on the
 * catalog's unique index (23505, pg_class_relname_nsp_index): several workers started
 * together for one dataset (scale-out) crashed at start. Serialised, the second sees
 * the first's committed column or index and skips it.
 */
async function oneAtATime(db: Pool, table: TableRef, ddl: string): Promise<void> {
  await inTransaction(db, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('dualrun.output/' || $1::regclass::oid::text, 0))`, [table.sql]);
    await c.query(ddl);
  });
}
