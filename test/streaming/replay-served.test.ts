/**
 * Regression (issue 11.5): with the stage at `streaming`, `stream --from-beginning
 * --reset-output` truncated the table readers were served (count 150000 → 0 → … →
 * 150000). The replay now rebuilds on the side and swaps in at once: a reader
 * querying the serving view in a tight loop on its own connection during the
 * replay sees the full old table or the full new one, never fewer rows.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { capturedOrdersDatabase, ORDER_COLUMNS, symmetricDifference, writeConfig } from './support.ts';

const ROWS = 200_000;
let db: TestDatabase;

beforeAll(async () => {
  db = await capturedOrdersDatabase('stream_served', ROWS, 'streaming');
  await db.pool.query(`CREATE VIEW analytics.orders AS SELECT ${ORDER_COLUMNS.join(', ')} FROM analytics.orders_stream`);
});
afterAll(async () => { await db?.drop(); });

/**
 * The served table as the worker would have left it after streaming the changelog
 * (same versions, source times and stored position), written in SQL to keep the
 * test short: only the replay itself streams the 200k changes.
 */
async function serveAsStreamed(): Promise<void> {
  await db.pool.query('ALTER TABLE analytics.orders_stream ADD COLUMN _dr_version bigint, ADD COLUMN _dr_source_ts timestamptz');
  await db.pool.query(`INSERT INTO analytics.orders_stream (${ORDER_COLUMNS.join(', ')}, _dr_version, _dr_source_ts)
    SELECT ${ORDER_COLUMNS.map((c) => `s.${c}`).join(', ')}, c.id, to_timestamp(((extract(epoch FROM c.ts) * 1000)::bigint) / 1000.0)
      FROM public.orders_src s JOIN dualrun.changelog c ON c.source_table = 'public.orders_src' AND (c.after->>'order_id')::int = s.order_id`);
  await db.pool.query(`INSERT INTO dualrun.stream_positions (dataset, source, partition, position, sub_position, event_time, records_applied, records_dead)
    SELECT 'orders', 'changelog:public.orders_src', 0, tx_id, id, ts, ${ROWS}, 0 FROM dualrun.changelog WHERE source_table = 'public.orders_src' ORDER BY tx_id DESC, id DESC LIMIT 1`);
}

it('regression: a replay at stage streaming no longer blanks the served table; readers see the full old or the full new rows', { timeout: 300_000 }, async () => {
  const { file, dir } = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src' } }, cutover: { serve: 'analytics.orders' } } },
  });
  await serveAsStreamed();
  // Ten served rows differ from the source, so the old and the new table can be told apart.
  await db.pool.query(`UPDATE analytics.orders_stream SET status = 'stale' WHERE order_id <= 10`);

  // The user's own objects on the output: a grant and a view (views bind to the table, not its name).
  await db.pool.query(`GRANT SELECT ON analytics.orders_stream TO PUBLIC; CREATE VIEW analytics.big_orders AS SELECT order_id FROM analytics.orders_stream WHERE amount > 50`);
  const owned = async () => (await db.pool.query(`SELECT c.oid::int AS oid, c.relacl::text AS acl, (SELECT count(*)::int FROM analytics.big_orders) AS big
      FROM pg_class c WHERE c.oid = 'analytics.orders_stream'::regclass`)).rows[0];
  const mine = await owned();
  const reader = new pg.Client({ connectionString: db.url });
  await reader.connect();
  const reads: { rows: number; stale: number }[] = [];
  let replaying = true;
  const loop = (async () => {
    while (replaying) {
      const r = await reader.query<{ rows: number; stale: number }>(`SELECT count(*)::int AS rows, count(*) FILTER (WHERE status = 'stale')::int AS stale FROM analytics.orders`);
      reads.push(r.rows[0]);
      // A short breath between reads: the old bug blanked the table for the whole replay,
      // and each read scans 200k rows on a machine the replay shares.
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const replay = await runCli(['--config', file, 'stream', '--dataset', 'orders', '--from-beginning', '--reset-output', '--until-idle', '--format', 'json'], { cwd: dir, timeoutMs: 280_000 });
  replaying = false;
  await loop;
  // One read after the command returned: the swap happens at its very end, and under load
  // the loop's last read may have come just before it.
  reads.push((await reader.query<{ rows: number; stale: number }>(`SELECT count(*)::int AS rows, count(*) FILTER (WHERE status = 'stale')::int AS stale FROM analytics.orders`)).rows[0]);
  await reader.end();

  expect(replay.code, replay.stderr).toBe(0);
  const result = JSON.parse(replay.stdout).replays[0];
  expect(result).toMatchObject({ swapped: true, rebuiltRows: ROWS });
  expect(result.rowsDeleted).toBeGreaterThanOrEqual(10);
  expect(result.rowsInserted).toBe(result.rowsDeleted);
  expect(reads.length).toBeGreaterThan(10);
  // Every read: all rows; first the old table (10 stale rows), then the new one (none), nothing in between.
  expect(reads.filter((r) => r.rows !== ROWS)).toEqual([]);
  expect(reads.filter((r) => r.stale !== 10 && r.stale !== 0)).toEqual([]);
  const firstNew = reads.findIndex((r) => r.stale === 0);
  expect(firstNew).toBeGreaterThan(0);
  expect(reads.slice(firstNew).every((r) => r.stale === 0)).toBe(true);
  expect(await symmetricDifference(db.pool, 'analytics.orders', 'public.orders_src', ORDER_COLUMNS)).toBe(0);
  expect((await db.pool.query(`SELECT to_regclass('dualrun.rebuild_orders') AS t`)).rows[0].t).toBeNull();
  expect(await owned()).toEqual(mine);
});
