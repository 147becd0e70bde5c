/**
 * Table and column names from config are identifiers: they are validated once and
 * always quoted when used in SQL, never spliced in as text.
 */
const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** Double-quotes an identifier (case is kept as written). */
export function quoteIdent(s: string): string {
  if (!IDENT.test(s)) throw new Error(`not a valid SQL identifier: ${JSON.stringify(s)}`);
  return `"${s}"`;
}

export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** `"schema"."name"`, ready for SQL. */
  readonly sql: string;
  /** `schema.name`, for messages. */
  readonly text: string;
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

/** A SQL string literal (for DDL where parameters are not allowed, e.g. COMMENT). */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
