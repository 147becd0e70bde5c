/**
 * Managed load when the query reads the output's own database: one statement,
 * `INSERT … SELECT`, so every row stays inside Postgres. Runs in the caller's
 * transaction after the window was locked and cleared; columns are matched by
 * name (the query's column names), so column order in the SELECT does not matter.
 */
import type pg from 'pg';
import type { PoolClient } from '../src/core/db/connect.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import type { BoundQuery } from './batch-query.ts';

export async function insertSelect(client: PoolClient, output: TableRef, query: BoundQuery): Promise<number> {
  const sub = `(\n${query.text}\n) AS dualrun_batch`;
  const cols = (await describeQuery(client, query)).map(quoteColumn).join(', ');
  const r = await client.query(`INSERT INTO ${output.sql} (${cols}) SELECT ${cols} FROM ${sub}`, [...query.values]);
  return r.rowCount ?? 0;
}

/**
 * The query's column names, found by opening (not running) a cursor on the query
 * as written, so a syntax error is reported against the user's SQL, not a wrapper.
 */
export async function describeQuery(client: PoolClient, query: BoundQuery): Promise<string[]> {
  return (await describeQueryFields(client, query)).map((f) => f.name);
}

/** The query's columns with their type oids (same cursor trick as describeQuery). */
export async function describeQueryFields(client: PoolClient, query: BoundQuery): Promise<{ name: string; typeId: number }[]> {
  const prefix = 'DECLARE dualrun_describe NO SCROLL CURSOR FOR ';
  try {
    await client.query(`${prefix}${query.text}`, [...query.values]);
  } catch (e) {
    const err = e as { position?: string };
    // Point the error position into the user's SQL.
    if (err.position && Number(err.position) > prefix.length) err.position = String(Number(err.position) - prefix.length);
    throw e;
  }
  // One round trip: FETCH 0 returns the row description without running the query.
  const [fetched] = (await client.query('FETCH 0 FROM dualrun_describe; CLOSE dualrun_describe')) as unknown as pg.QueryResult[];
  return fetched.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID }));
}

export function quoteColumn(name: string): string {
  // Query column names come from Postgres' description of the user's SQL (not from config);
  // `?column?` means an expression without an alias.
  if (name === '?column?') throw new Error('the batch query has an unnamed column: give every expression an alias matching a batch.output column');
  return `"${name.replace(/"/g, '""')}"`;
}
