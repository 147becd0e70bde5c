/**
 * Writes a mix of changes to a captured source table through real SQL: inserts,
 * updates (several writers at once, so transactions interleave and commit out of
 * id order), no-op updates (duplicate images), deletes, and re-inserts of deleted
 * keys. Returns the number of statements' rows touched (= changelog events).
 */
import type { Pool } from '../../src/core/db/connect.ts';

export interface GenerateOptions { keys: number; rounds: number; writers?: number }

export async function generateChanges(pool: Pool, table: string, o: GenerateOptions): Promise<number> {
  let events = 0;
  const run = async (sql: string, params: unknown[] = []) => { const n = (await pool.query(sql, params)).rowCount ?? 0; events += n; };
  const chunk = 5000;
  for (let lo = 1; lo <= o.keys; lo += chunk) {
    await run(`INSERT INTO ${table} SELECT g, g % 500, (g % 1000) / 10.0, 'new', date '2026-11-01' + (g % 20) FROM generate_series($1::int, $2::int) g`, [lo, Math.min(lo + chunk - 1, o.keys)]);
  }
  const writers = o.writers ?? 4;
  for (let round = 0; round < o.rounds; round++) {
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let j = 0; j < 10; j++) {
        const slot = w * 10 + j;
        await run(`UPDATE ${table} SET amount = amount + 1.25, status = (ARRAY['paid','shipped','new'])[1 + ($2::int % 3)] WHERE order_id % $1 = $2`, [writers * 10, (slot + round) % (writers * 10)]);
      }
    }));
    await run(`UPDATE ${table} SET status = status WHERE order_id % 7 = $1`, [round % 7]);
    await run(`DELETE FROM ${table} WHERE order_id % 11 = $1`, [round % 11]);
    await run(`INSERT INTO ${table} SELECT g, g % 500, 1.5, 'new', date '2026-11-05' FROM generate_series(1, $1::int) g WHERE g % 22 = $2 ON CONFLICT (order_id) DO NOTHING`, [o.keys, round % 11]);
  }
  return events;
}
