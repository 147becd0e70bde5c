/**
 * Windows on the real Postgres: settlement (pending until the batch run
 * succeeded and the stream watermark passed window end + settle), window
 * boundaries in the dataset's time zone, in-flight differences (stream changes
 * and deletes after the batch snapshot), stored history, the nightly entry point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { reconcileSettledWindows } from '../../reconcile/nightly.ts';
import { exitCodeFor } from '../../reconcile/verdict-exit-code.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';
import { migrate } from '../../src/core/db/migrate.ts';

let db: TestDatabase;
let rt: Runtime;
const SNAPSHOT = '2026-11-21T02:00:00Z';

const SETUP = `
CREATE SCHEMA w;
CREATE TABLE w.ev_batch (id int PRIMARY KEY, at timestamptz NOT NULL, day date NOT NULL, v text);
CREATE TABLE w.ev_stream (id int PRIMARY KEY, at timestamptz NOT NULL, day date NOT NULL, v text, _dr_version bigint, _dr_source_ts timestamptz);
-- Berlin days: 2026-11-19 23:00Z .. 2026-11-20 23:00Z is the local day 2026-11-20.
INSERT INTO w.ev_batch SELECT i, '2026-11-18T23:00:00Z'::timestamptz + (i * interval '10 minutes'),
  (('2026-11-18T23:00:00Z'::timestamptz + (i * interval '10 minutes')) AT TIME ZONE 'Europe/Berlin')::date, 'v' || i
  FROM generate_series(0, 431) i;   -- three local days, 144 rows each
INSERT INTO w.ev_stream SELECT id, at, day, v, 1, '2026-11-21T01:00:00Z' FROM w.ev_batch;
-- 2026-11-20 (ids 144..287): one real difference, one stream change after the snapshot, one deletion after the snapshot
UPDATE w.ev_stream SET v = 'wrong' WHERE id = 150;
UPDATE w.ev_stream SET v = 'newer', _dr_source_ts = '2026-11-21T03:00:00Z' WHERE id = 151;
DELETE FROM w.ev_stream WHERE id = 152;
-- 2026-11-21 (ids 288..431): differs too, outside the windows asked for
UPDATE w.ev_stream SET v = 'elsewhere' WHERE id = 300;
CREATE TABLE IF NOT EXISTS dualrun.stream_tombstones (dataset text NOT NULL, record_key jsonb NOT NULL, version bigint, source_ts timestamptz);
INSERT INTO dualrun.stream_tombstones (dataset, record_key, version, source_ts) VALUES ('ev', '{"id": 152}', 2, '2026-11-21T03:00:00Z');
CREATE VIEW w.ev_batch_v AS SELECT * FROM w.ev_batch;
CREATE VIEW w.ev_stream_v AS SELECT * FROM w.ev_stream;
`;

async function batchRun(label: string, status: string, snapshotAt = SNAPSHOT): Promise<void> {
  const d = await rt.db();
  const start = new Date(`${label}T00:00:00+01:00`);
  await d.query(
    `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, finished_at, snapshot_at)
     VALUES ('ev', $1, $1::timestamptz + interval '1 day', $2, 'adopted', $3, now(), $4)`,
    [start.toISOString(), label, status, snapshotAt]);
}
async function watermark(at: string): Promise<void> {
  await (await rt.db()).query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('ev', $1)
    ON CONFLICT (dataset) DO UPDATE SET event_time = excluded.event_time`, [at]);
}

beforeAll(async () => {
  db = await freshDatabase();
  const window = { column: 'at', grain: 'day' as const, timezone: 'Europe/Berlin' };
  rt = runtimeFor(db, {
    ev: dataset({ key: ['id'], window, batch: { output: 'w.ev_batch' }, stream: { output: 'w.ev_stream' }, reconcile: { settle: '1h' } }),
    // Views over the same tables, windowed by a date column instead.
    ev_by_date: dataset({ key: ['id'], window: { ...window, column: 'day' }, batch: { output: 'w.ev_batch_v' }, stream: { output: 'w.ev_stream_v' } }),
  });
  await rt.db();
  await db.pool.query(SETUP);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('reconcile: settlement and windows', () => {
  it('is pending without a succeeded batch run, then until the watermark passes window end + settle', async () => {
    let [r] = await reconcileDataset(rt, 'ev', { windows: ['2026-11-20'] });
    expect(r.verdict).toBe('pending');
    expect(r.pendingReason).toMatch(/no batch run/);
    await batchRun('2026-11-20', 'running');
    [r] = await reconcileDataset(rt, 'ev', { windows: ['2026-11-20'] });
    expect(r.pendingReason).toMatch(/running/);
    await batchRun('2026-11-20', 'succeeded');
    await watermark('2026-11-20T23:30:00Z'); // window end 23:00Z + 1h settle not yet passed
    [r] = await reconcileDataset(rt, 'ev', { windows: ['2026-11-20'] });
    expect(r.verdict).toBe('pending');
    expect(r.pendingReason).toMatch(/watermark/);
    expect(exitCodeFor([r.verdict])).toBe(4);
  });

  it('--assume-settled judges anyway', async () => {
    const [r] = await reconcileDataset(rt, 'ev', { windows: ['2026-11-19'], assumeSettled: true, store: false });
    expect(r.verdict).toBe('match');
    expect(r.batch!.rows).toBe(144);
  });

  it('judges a settled window: only its rows, real differences fail, in-flight ones are listed apart', async () => {
    await watermark('2026-11-21T00:30:00Z');
    const [r] = await reconcileDataset(rt, 'ev', { windows: ['2026-11-20'] });
    expect(r.error).toBeUndefined();
    expect(r.window).toBe('2026-11-20');
    expect(r.windowStart).toBe('2026-11-19T23:00:00.000Z');
    expect(r.batch!.rows).toBe(144);
    expect(r.stream!.rows).toBe(143);
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(['changed {"id":150} v']);
    expect(found(r, 'inFlightSamples')).toEqual(['changed {"id":151} v', 'missing_in_stream {"id":152}']);
    expect(r.diff).toMatchObject({ changed: 1, missingInStream: 0, inFlight: 2 });
    const stored = await db.pool.query(`SELECT verdict, stage, changed, in_flight, window_label, result->>'window' AS w FROM dualrun.reconciliations WHERE id = $1`, [r.id]);
    expect(stored.rows[0]).toEqual({ verdict: 'mismatch', stage: 'batch', changed: '1', in_flight: '2', window_label: '2026-11-20', w: '2026-11-20' });
  });

  it('a date window column is cut by the local day', async () => {
    const [r] = await reconcileDataset(rt, 'ev_by_date', { windows: ['2026-11-21'], assumeSettled: true, store: false });
    expect(r.batch!.rows).toBe(144);
    expect(found(r)).toEqual(['changed {"id":300} v']);
  });

  it('several windows: one result each, the worst verdict decides the exit code', async () => {
    await batchRun('2026-11-19', 'succeeded');
    const rs = await reconcileDataset(rt, 'ev', { windows: ['2026-11-19', '2026-11-20'], store: false });
    expect(rs.map((r) => r.verdict)).toEqual(['match', 'mismatch']);
    expect(exitCodeFor(rs.map((r) => r.verdict))).toBe(1);
    expect(exitCodeFor(['match', 'pending'])).toBe(4);
    expect(exitCodeFor(['pending', 'mismatch', 'error'])).toBe(3);
  });

  it('nightly: judges settled windows with no verdict since their batch run, once (the look-back is anchored to the night, not the clock)', async () => {
    const night = { now: new Date('2026-11-22T06:00:00Z') };
    const first = await reconcileSettledWindows(rt, 'ev', night);
    // 2026-11-20 was judged above (after its newest run); 2026-11-19's run is newer than any stored verdict.
    expect(first.map((r) => [r.window, r.verdict])).toEqual([['2026-11-19', 'match']]);
    expect(await reconcileSettledWindows(rt, 'ev', night)).toEqual([]);
    await batchRun('2026-11-20', 'succeeded'); // a re-run: judged again
    const again = await reconcileSettledWindows(rt, 'ev', night);
    expect(again.map((r) => [r.window, r.verdict])).toEqual([['2026-11-20', 'mismatch']]);
  });
});

describe('reconcile: stream output in its own database', () => {
  it('regression: settlement reads the stream watermark beside the stream output (stream.database)', async () => {
    const other = await freshDatabase('rcw');
    const cross = runtimeFor(db, { evx: dataset({ key: ['id'], batch: { output: 'w.ev_batch' }, stream: { output: 'x.ev_stream', database: other.url } }) });
    try {
      await migrate(other.pool);
      await other.pool.query('CREATE SCHEMA x; CREATE TABLE x.ev_stream (id int PRIMARY KEY, at timestamptz NOT NULL, day date NOT NULL, v text)');
      await (await rt.db()).query(
        `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, finished_at, snapshot_at)
         VALUES ('evx', NULL, NULL, NULL, 'adopted', 'succeeded', now(), $1)`, [SNAPSHOT]);
      let [r] = await reconcileDataset(cross, 'evx', { store: false });
      expect(r.verdict).toBe('pending');
      expect(r.pendingReason).toMatch(/no watermark/);
      // The streaming path keeps its watermark in the stream output's database.
      await other.pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('evx', '2100-01-01T00:00:00Z')`);
      [r] = await reconcileDataset(cross, 'evx', { store: false });
      expect(r.verdict).toBe('mismatch');
      expect(r.diff?.missingInStream).toBe(432);
    } finally {
      await cross.close();
      await other.drop();
    }
  });
});
