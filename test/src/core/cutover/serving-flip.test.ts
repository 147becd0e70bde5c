/**
 * Readers never see the serving view missing or half-switched: two readers on
 * their own connections (one with a plain query, one with a named prepared
 * statement, as pooled applications use) read in a tight loop while the stage
 * flips shadow ⇄ streaming 100 times.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, rollback } from '../../../../src/core/cutover/stage-change.ts';
import { readHistory } from '../../../../src/core/cutover/audit-log.ts';
import { BATCH_ROWS, STREAM_ROWS, createFixture, daysAgo, seedVerdict, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

const READ = 'SELECT min(side) AS side, count(*)::int AS n, count(DISTINCT side)::int AS sides FROM analytics.orders';

async function reader(c: pg.Client, prepared: boolean, done: () => boolean, rows: { batch: number; stream: number }) {
  const seen = { batch: 0, stream: 0, bad: [] as unknown[] };
  try {
    while (!done()) {
      try {
        const r = await c.query(prepared ? { name: 'serve_read', text: READ } : READ);
        const { side, n, sides } = r.rows[0] as { side: 'batch' | 'stream'; n: number; sides: number };
        if (sides === 1 && n === rows[side]) seen[side] += 1;
        else seen.bad.push(r.rows[0]);
      } catch (e) {
        seen.bad.push((e as Error).message);
      }
    }
  } finally {
    await c.end();
  }
  return seen;
}

describe('serving view under flips', () => {
  it('every read succeeds and returns the rows of exactly one side while stages flip 100 times', async () => {
    await promote(fx.rt, 'orders', { reason: 'shadow', actor: 't' });
    for (const d of [1, 2, 3]) await seedVerdict(fx.db.pool, { day: daysAgo(d), verdict: 'match', agoHours: d });
    const clients = [new pg.Client({ connectionString: fx.db.url }), new pg.Client({ connectionString: fx.db.url })];
    await Promise.all(clients.map((c) => c.connect()));
    let flipping = true;
    const count = async (t: string) => (await fx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics.orders_${t}`)).rows[0].n;
    const rows = { batch: await count('batch'), stream: await count('stream') };
    expect(rows.batch - rows.stream).toBe(BATCH_ROWS - STREAM_ROWS);
    const readers = clients.map((c, i) => reader(c, i === 1, () => !flipping, rows));
    try {
      for (let i = 0; i < 50; i++) {
        await promote(fx.rt, 'orders', { reason: `flip ${i}`, actor: 't' });
        await rollback(fx.rt, 'orders', { reason: `flop ${i}`, actor: 't' });
      }
    } finally {
      flipping = false;
    }
    const seen = await Promise.all(readers);
    for (const s of seen) {
      expect(s.bad).toEqual([]);
      expect(s.batch).toBeGreaterThan(0);
      expect(s.stream).toBeGreaterThan(0);
      // Reads interleave with the flips rather than landing before or after them.
      expect(s.batch + s.stream).toBeGreaterThan(100);
    }
    expect((await readHistory(fx.db.pool, 'orders')).length).toBe(101);
  });
});
