/**
 * The toolkit's own schema `dualrun`, versioned by numbered SQL files in
 * src/core/migrations (NNNN-name.sql). Applying is idempotent and safe when several
 * processes run it at once: one transaction under an advisory lock applies what
 * is missing; the others then find nothing to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packagePath } from '../package-path.ts';
import { DualrunError } from '../errors.ts';
import { inTransaction, type Pool } from './connect.ts';

const MIGRATIONS_DIR = packagePath('src', 'core', 'migrations');
const LOCK_KEY = 'dualrun.migrate';

export interface Migration { version: number; name: string; sql: string }

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: fs.readFileSync(path.join(dir, f), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

export interface MigrateResult { applied: Migration[]; current: number }

export async function migrate(pool: Pool): Promise<MigrateResult> {
  const all = listMigrations();
  try {
    return await inTransaction(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_KEY]);
      await c.query('CREATE SCHEMA IF NOT EXISTS dualrun');
      await c.query(`CREATE TABLE IF NOT EXISTS dualrun.schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM dualrun.schema_migrations')).rows.map((r) => r.version));
      const applied: Migration[] = [];
      for (const m of all) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO dualrun.schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        applied.push(m);
      }
      return { applied, current: all.at(-1)?.version ?? 0 };
    });
  } catch (e) {
    if (e instanceof DualrunError) throw e;
    throw new DualrunError('DUALRUN_MIGRATION_FAILED', `migrating the dualrun schema failed: ${(e as Error).message}`, { cause: e });
  }
}

/** True when every shipped migration is applied (cheap check before auto-migrating). */
export async function isCurrent(pool: Pool): Promise<boolean> {
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('dualrun.schema_migrations')::text AS t`);
  if (!exists.rows[0].t) return false;
  // Compare the sets, not the maxima: a lower-numbered migration can land after a higher one.
  const r = await pool.query<{ version: number }>('SELECT version FROM dualrun.schema_migrations');
  const applied = new Set(r.rows.map((x) => x.version));
  return listMigrations().every((m) => applied.has(m.version));
}
