/**
 * What Postgres says about one side's output table: its columns with their
 * types, and whether a unique index guarantees one row per key. The canonical
 * encoding depends on each side's own column types, because the two sides may
 * store the same value differently (numeric(12,2) vs numeric, int4 vs int8,
 * a domain over numeric, an array of numerics, a composite holding timestamps).
 * So each column's type is described recursively from pg_type: domains resolved
 * to their base type, arrays to their element, composites to their fields.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Pool, PoolClient } from '../src/core/db/connect.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import { caseHint } from '../src/core/db/table-catalog.ts';
import { configMistake } from '../src/core/config/config-mistake.ts';
import type { Codec } from './value-codec.ts';
import type { FieldHash } from './row-hash-sql.ts';

/**
 * A column's type with domains resolved, described as deep as the canonical encoding needs.
 * `userTextCast`: the type has a cast to text that a user created with a function of theirs
 * (`CREATE CAST (mood AS text) WITH FUNCTION ...`): `v::text` would call it rather than the type's
 * output function, which is what readers are served, so such a value is printed by its output.
 */
export type TypeDesc =
  /** `typmod`: e.g. numeric(12,2)'s precision and scale, -1 when unconstrained (equal typmods: equal text forms). */
  | { kind: 'base'; name: string; category: string; typmod?: number; softInput?: boolean; userTextCast?: true }
  | { kind: 'enum'; name: string; category: 'E'; userTextCast?: true }
  | { kind: 'array'; name: string; category: 'A'; elem: TypeDesc; userTextCast?: true }
  | { kind: 'composite'; name: string; category: 'C'; fields: { name: string; type: TypeDesc }[]; userTextCast?: true };

export interface ColumnInfo {
  /** This side's column name (reconcile.map may give the stream side another name). */
  name: string;
  /** Base type name (domains resolved), e.g. `numeric`, `timestamptz`, `text`, `_numeric` for numeric[]. */
  type: string;
  /** The full type description (absent for columns made up by callers: then `type` is a base type). */
  desc?: TypeDesc;
  /** How this column is encoded for comparison with the other side (set by comparedColumns). */
  codec?: Codec;
  /** How the row hash reads this column (set by comparedColumns, from the pair of types). */
  hash?: FieldHash;
  /** A reconcile.expressions entry for this side, already planned by Postgres; read instead of the column. */
  expression?: string;
  /** The column's name in the config (the batch name) when this side's `name` differs or an expression stands in. */
  logical?: string;
}

/** The name results use for a column: the config's, the same on both sides. */
export function logicalName(col: ColumnInfo): string {
  return col.logical ?? col.name;
}

export interface TableShape {
  table: TableRef;
  columns: Map<string, ColumnInfo>;
  /**
   * A valid, non-partial unique index on key columns only, with NULLs counting as one value, over every
   * row a scan reads (not an inheritance parent's: its children are read too): duplicates are impossible.
   */
  keyUnique: boolean;
  /** Columns declared NOT NULL. */
  notNull: ReadonlySet<string>;
  /** Columns that lead a btree index (a range of them is an index range scan). */
  indexLeading: ReadonlySet<string>;
}

/**
 * `named`: the config field that names the table; a table that is not there is then a config
 * mistake naming it (exit 2), as a misspelt output name is.
 */
export async function readTableShape(db: Pool | PoolClient, table: TableRef, key: readonly string[], named?: { file: string | null; at: string }): Promise<TableShape> {
  const reg = await db.query<{ oid: number | null }>('SELECT to_regclass($1)::oid AS oid', [table.sql]);
  const oid = reg.rows[0].oid;
  if (oid === null) {
    const what = `table ${table.text} does not exist${await caseHint(db, table)}`;
    if (named) throw configMistake(named.file, [{ at: named.at, message: `${what}; correct the name, or create it (dualrun migrate creates missing outputs)` }], { table: table.text });
    throw new DualrunError('DUALRUN_RECONCILE_FAILED', what, { details: { table: table.text } });
  }
  const cols = await db.query<{ name: string; typid: number; typmod: number; notnull: boolean }>(
    `SELECT a.attname AS name, a.atttypid::int AS typid, a.atttypmod AS typmod, a.attnotnull AS notnull
       FROM pg_attribute a
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  // Only an index that really holds one row per key counts: a valid one (a failed CREATE UNIQUE INDEX
  // CONCURRENTLY leaves an invalid index over duplicates), and NULLs in it count as one value (NOT NULL
  // columns, or NULLS NOT DISTINCT on Postgres 15+): a plain unique index admits many NULL keys.
  // And one over every row the scan reads: `FROM parent` reads an inheritance parent's children too,
  // which its own unique index does not cover (a partitioned table's does cover its partitions).
  const idx = await db.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::pg_catalog.text) AS cols
       FROM (SELECT x.indexrelid, x.indrelid, x.indkey, coalesce((to_jsonb(x) ->> 'indnullsnotdistinct')::boolean, false) AS nnd
               FROM pg_index x
              WHERE x.indrelid = $1 AND x.indisunique AND x.indisvalid AND x.indpred IS NULL AND x.indexprs IS NULL
                AND (NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhparent = $1)
                     OR (SELECT c.relkind FROM pg_class c WHERE c.oid = $1) = 'p')) i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      GROUP BY i.indexrelid, i.nnd
     HAVING bool_and(a.attnotnull) OR i.nnd`,
    [oid],
  );
  const leading = await db.query<{ name: string }>(
    `SELECT a.attname::pg_catalog.text AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = $1 AND am.amname = 'btree' AND i.indpred IS NULL AND i.indisvalid`,
    [oid],
  );
  const version = await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
  const describe = typeDescriber(db, Number(version.rows[0].v) >= 160000);
  const columns = new Map<string, ColumnInfo>();
  for (const c of cols.rows) {
    const desc = await describe(c.typid, c.typmod);
    columns.set(c.name, { name: c.name, type: desc.name, desc });
  }
  return {
    table,
    columns,
    keyUnique: idx.rows.some((r) => r.cols.every((c) => key.includes(c))),
    notNull: new Set(cols.rows.filter((c) => c.notnull).map((c) => c.name)),
    indexLeading: new Set(leading.rows.map((r) => r.name)),
  };
}

/** One type (e.g. of a reconcile.expressions result, from its field's type oid and typmod), described as a column's would be. */
export async function describeType(db: Pool | PoolClient, oid: number, typmod: number): Promise<TypeDesc> {
  const version = await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
  return typeDescriber(db, Number(version.rows[0].v) >= 160000)(oid, typmod);
}

interface PgTypeRow { typname: string; typtype: string; typcategory: string; typbasetype: number; typelem: number; typrelid: number; typsubscript: string; typtypmod: number; usercast: boolean }

/** Reads pg_type recursively (memoised per table): domains over domains, arrays of domains, composites of arrays... */
/** `softInput`: the server has pg_input_is_valid (Postgres 16+), so json can be tested for jsonb before casting. */
function typeDescriber(db: Pool | PoolClient, softInput: boolean): (oid: number, typmod: number) => Promise<TypeDesc> {
  const memo = new Map<string, Promise<TypeDesc>>();
  const row = async (oid: number): Promise<PgTypeRow> => {
    const r = await db.query<PgTypeRow>(
      `SELECT typname, typtype, typcategory, typbasetype::int, typelem::int, typrelid::int, typsubscript::text, typtypmod,
              EXISTS (SELECT 1 FROM pg_cast c WHERE c.castsource = t.oid AND c.casttarget = 'pg_catalog.text'::pg_catalog.regtype
                        AND c.castmethod = 'f' AND c.oid >= 16384) AS usercast
         FROM pg_type t WHERE t.oid = $1`, [oid]);
    if (!r.rows[0]) throw new DualrunError('DUALRUN_RECONCILE_FAILED', `type oid ${oid} not found in pg_type`);
    return r.rows[0];
  };
  const describe = (oid: number, typmod: number, depth = 0): Promise<TypeDesc> => {
    if (depth > 32) throw new DualrunError('DUALRUN_RECONCILE_FAILED', `type oid ${oid} nests deeper than 32 levels`);
    let p = memo.get(`${oid}:${typmod}`);
    if (!p) {
      p = resolved(oid, typmod, depth);
      memo.set(`${oid}:${typmod}`, p);
    }
    return p;
  };
  const resolved = async (oid: number, typmod: number, depth: number): Promise<TypeDesc> => {
    let t = await row(oid);
    let mod = typmod;
    // A domain's own typmod (numeric(12,2) under a domain) applies unless the column sets one.
    while (t.typtype === 'd') { if (mod === -1) mod = t.typtypmod; t = await row(t.typbasetype); }
    // Casts from a domain are ignored: its value is cast as its base type, so the base type's casts count.
    const cast = t.usercast ? { userTextCast: true as const } : {};
    if (t.typcategory === 'A' && t.typelem !== 0 && t.typsubscript === 'array_subscript_handler') {
      // An array column's typmod is its elements' (numeric(10,2)[]).
      return { kind: 'array', name: t.typname, category: 'A', elem: await describe(t.typelem, mod, depth + 1), ...cast };
    }
    if (t.typtype === 'c' && t.typrelid !== 0) {
      const f = await db.query<{ name: string; typid: number; typmod: number }>(
        `SELECT attname AS name, atttypid::int AS typid, atttypmod AS typmod FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [t.typrelid]);
      const fields = [];
      for (const x of f.rows) fields.push({ name: x.name, type: await describe(x.typid, x.typmod, depth + 1) });
      return { kind: 'composite', name: t.typname, category: 'C', fields, ...cast };
    }
    if (t.typtype === 'e') return { kind: 'enum', name: t.typname, category: 'E', ...cast };
    return { kind: 'base', name: t.typname, category: t.typcategory, typmod: mod, ...(t.typname === 'json' ? { softInput } : {}), ...cast };
  };
  return (oid, typmod) => describe(oid, typmod);
}

/** A readable type name for reports: `numeric`, `numeric[]`, `record(a numeric, b timestamp)`. */
export function typeLabel(t: TypeDesc): string {
  if (t.kind === 'array') return `${typeLabel(t.elem)}[]`;
  if (t.kind === 'composite') return `${t.name}(${t.fields.map((f) => `${f.name} ${typeLabel(f.type)}`).join(', ')})`;
  return t.name;
}

/** The description of a column, or a base type from its name (columns built by callers and tests). */
export function descOf(col: ColumnInfo): TypeDesc {
  return col.desc ?? { kind: 'base', name: col.type, category: '' };
}
