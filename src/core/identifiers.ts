/**
 * Table and column names from config are identifiers: they are validated once (the config
 * schema, parseTableRef) and always quoted when used in SQL, never spliced in as text.
 * Names read from the catalog (a legacy table's `"Order Date"`, `"ünï"`, `"a""b"`) may be
 * anything Postgres allows, and are quoted the same way.
 */
import crypto from 'node:crypto';

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** NAMEDATALEN - 1: Postgres cuts a longer name to this many bytes without a word. */
const MAX_NAME_BYTES = 63;

/**
 * Double-quotes a name (case kept, embedded quotes doubled): safe for any name Postgres
 * holds. Refuses what would not round-trip: an empty name, NUL, and more than 63 bytes,
 * which Postgres would silently truncate (two long names could then become one table).
 */
export function quoteIdent(s: string): string {
  if (s.length === 0 || s.includes('\0')) throw new Error(`not a valid SQL name: ${JSON.stringify(s)}`);
  if (Buffer.byteLength(s, 'utf8') > MAX_NAME_BYTES) throw new Error(`SQL name longer than ${MAX_NAME_BYTES} bytes, which Postgres would silently truncate: ${JSON.stringify(s)}`);
  return `"${s.replace(/"/g, '""')}"`;
}

export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** `"schema"."name"`, ready for SQL. */
  readonly sql: string;
  /** `schema.name`, for messages. */
  readonly text: string;
}

/**
 * A name dualrun derives from a user's name (`rebuild_<dataset>`, `<table>_dr_key`): as is when it
 * fits in 63 bytes; else cut, with a hash of the whole name, so two long names sharing a prefix
 * stay two names (cut alone, or by Postgres, they became one: one dataset's replay table, or an
 * index name another output already used).
 */
export function boundedName(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES) return name;
  const hash = crypto.createHash('sha1').update(name).digest('hex').slice(0, 8);
  let head = name.slice(0, MAX_NAME_BYTES - 9);
  while (Buffer.byteLength(head, 'utf8') > MAX_NAME_BYTES - 9) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

/** Parses `schema.table` (or `table`, in `public`); returns null when invalid. */
export function parseTableRef(text: string): TableRef | null {
  const parts = text.split('.');
  if (parts.length > 2 || parts.some((p) => !IDENT.test(p))) return null;
  const [schema, name] = parts.length === 2 ? parts : ['public', parts[0]];
  return tableRef(schema, name);
}

export function tableRef(schema: string, name: string): TableRef {
  return Object.freeze({ schema, name, sql: `${quoteIdent(schema)}.${quoteIdent(name)}`, text: `${schema}.${name}` });
}

/**
 * A SQL string literal (for DDL where parameters are not allowed, e.g. COMMENT). Text with a
 * backslash is written as E'...' with the backslash doubled, which reads the same whatever the
 * session's standard_conforming_strings says (off: a plain 'a\b' would hold a backspace).
 */
export function quoteLiteral(s: string): string {
  const body = s.replace(/'/g, "''");
  return s.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}
