/**
 * batch.output's columns and types, read from the catalog. Rows that come from
 * another database (or from a transform) travel as text and are cast to these
 * types inside Postgres, which is lossless: each type's text form is its canonical
 * input (timestamps keep microseconds, numerics every digit).
 */
import type { PoolClient } from '../src/core/db/connect.ts';
import type { TableRef } from '../src/core/identifiers.ts';

export interface OutputColumn {
  readonly name: string;
  /** `regtype` text: a quoted, schema-qualified-if-needed type name, without typmod. */
  readonly type: string;
}

export async function outputColumns(client: PoolClient, table: TableRef): Promise<Map<string, OutputColumn>> {
  const r = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, a.atttypid::regtype::text AS type
     FROM pg_attribute a
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [table.sql],
  );
  return new Map(r.rows.map((c) => [c.name, c]));
}
