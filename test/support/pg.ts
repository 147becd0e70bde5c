/**
 * A fresh database per test file on the run's real Postgres, so files can run in
 * parallel without seeing each other's rows.
 */
import crypto from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { createPool, type Pool } from '../../src/core/db/connect.ts';

export interface TestDatabase {
  url: string;
  pool: Pool;
  name: string;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  return inject('pgUrl');
}

export function urlForDatabase(name: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = urlForDatabase(name);
  const pool = createPool(url, { max: 10 });
  return {
    url,
    pool,
    name,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: serverUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
