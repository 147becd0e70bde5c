/**
 * SIGKILL the real `dualrun stream` worker on the changelog transport (the embedded
 * default: no Kafka) FAULTS_KILLS times (default 20) while three writers change a
 * captured source table; then run to idle. The source table is the independent
 * expectation: the output must equal it (count, checksum, key by key) and
 * applied + dead must equal the number of changelog events.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { generateChanges } from '../streaming/change-generator.ts';
import { prng } from '../streaming/debezium-events.ts';
import { ORDERS_DDL, ordersStreamDatabase, setStage, writeConfig } from '../streaming/support.ts';
import { committedCount, expectExact, expectNoRawStack, size, sleep, startCli } from './fault-support.ts';

const KILLS = size('KILLS', 20);
const KEYS = size('CHANGELOG_KEYS', 20_000);
let db: TestDatabase;

beforeAll(async () => {
  db = await ordersStreamDatabase('faults_kill_changelog');
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await installCapture(db.pool, parseTableRef('public.orders_src')!);
  await setStage(db.pool, 'orders', 'shadow');
});
afterAll(async () => { await db?.drop(); });

it(`changelog transport: survives ${KILLS} SIGKILLs while writers change the source; ends exact`, { timeout: 900_000 }, async () => {
  const { file, dir } = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', changelogRetention: 'forever' } } } }, // the count below reads the whole changelog
  });
  const rnd = prng(Number(process.env.FAULTS_SEED ?? Date.now() % 100000));
  let kills = 0;
  // Writers keep changing the source until the last kill: every start finds fresh work.
  const gen = (async () => {
    let events = await generateChanges(db.pool, 'public.orders_src', { keys: KEYS, rounds: 1, writers: 3 });
    for (let round = 0; kills < KILLS; round++) events += await churn(db.pool, 'public.orders_src', KEYS, round);
    return events;
  })();
  let killsWhileApplying = 0;
  while (kills < KILLS) {
    const before = await committedCount(db.pool, 'orders');
    const w = startCli(['--config', file, 'stream'], dir);
    let moved = false;
    for (let i = 0; i < 300 && !moved && w.child.exitCode === null; i++) {
      await sleep(100);
      moved = (await committedCount(db.pool, 'orders')) > before;
    }
    await sleep(rnd() * 500);
    expect(w.child.exitCode, w.stderr()).toBe(null);
    w.child.kill('SIGKILL');
    await w.exited();
    expectNoRawStack(w.stderr());
    kills++;
    if (moved) killsWhileApplying++;
  }
  const events = await gen;
  expect(killsWhileApplying).toBeGreaterThanOrEqual(Math.ceil(KILLS * 0.75));

  const last = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 300_000 });
  expectNoRawStack(last.stderr);
  expect(last.code, last.stderr).toBe(0);
  await expectExact(db.pool, 'public.orders_src', 'analytics.orders_stream');
  const logged = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM dualrun.changelog WHERE source_table = 'public.orders_src'`);
  expect(Number(logged.rows[0].n)).toBe(events);
  expect(await committedCount(db.pool, 'orders')).toBe(events);
});

/** One round of concurrent changes (3 writers: updates, no-op updates, deletes, re-inserts); returns the rows touched. */
async function churn(pool: TestDatabase['pool'], table: string, keys: number, round: number): Promise<number> {
  const n = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rowCount ?? 0;
  const counts = await Promise.all([0, 1, 2].map((w) => n(`UPDATE ${table} SET amount = amount + 0.25, status = (ARRAY['paid','shipped','new'])[1 + $2::int % 3] WHERE order_id % 30 = $1`, [(round * 3 + w) % 30, round + w])));
  const touched = counts.reduce((a, b) => a + b, 0)
    + await n(`UPDATE ${table} SET status = status WHERE order_id % 53 = $1`, [round % 53])
    + await n(`DELETE FROM ${table} WHERE order_id % 41 = $1`, [round % 41])
    + await n(`INSERT INTO ${table} SELECT g, g % 500, 2.5, 'new', date '2026-11-07' FROM generate_series(1, $1::int) g WHERE g % 41 = $2 ON CONFLICT (order_id) DO NOTHING`, [keys, (round + 20) % 41]);
  await new Promise((r) => setTimeout(r, 50));
  return touched;
}
