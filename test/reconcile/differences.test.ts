/**
 * Seeded differences on the real Postgres, each asserting the exact keys and
 * kinds the reconciler finds, plus the encodings that must compare equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let other: TestDatabase;
let rt: Runtime;
/** Cross-database runtimes: batch in the other database, or stream in the other database. */
let crossRts: Runtime[] = [];

const SETUP = `
CREATE SCHEMA a;
-- many columns, one changed; missing and extra rows; duplicate keys (no primary key on batch)
CREATE TABLE a.orders_batch (order_id int, customer text, amount numeric(12,2), status text, note text, qty int, placed_at timestamptz, loaded_at timestamptz DEFAULT now());
CREATE TABLE a.orders_stream (order_id bigint PRIMARY KEY, customer text, amount numeric, status text, note text, qty int, placed_at timestamptz, _dr_version bigint, _dr_source_ts timestamptz);
INSERT INTO a.orders_batch (order_id, customer, amount, status, note, qty, placed_at)
  SELECT i, 'c' || (i % 7), i * 1.5, 'new', 'n' || i, i % 3, '2026-11-20T10:00:00Z'::timestamptz + i * interval '1 second' FROM generate_series(1, 500) i;
INSERT INTO a.orders_stream (order_id, customer, amount, status, note, qty, placed_at, _dr_version, _dr_source_ts)
  SELECT order_id, customer, amount, status, note, qty, placed_at, 1, now() FROM a.orders_batch;
DELETE FROM a.orders_stream WHERE order_id IN (10, 20);                        -- missing in stream
INSERT INTO a.orders_stream (order_id, customer, amount, status, note, qty, placed_at) VALUES (1001, 'x', 1, 'new', 'n', 1, '2026-11-20T12:00:00Z'); -- missing in batch
UPDATE a.orders_stream SET status = 'paid' WHERE order_id = 30;               -- one changed column among many
INSERT INTO a.orders_batch (order_id, customer, amount, status, note, qty, placed_at)
  SELECT order_id, customer, amount, status, note, qty, placed_at FROM a.orders_batch WHERE order_id = 40;  -- duplicate key
UPDATE a.orders_stream SET amount = amount * 1.0000 WHERE order_id = 50;     -- 10.0 vs 10.00: equal
`;

beforeAll(async () => {
  [db, other] = await Promise.all([freshDatabase(), freshDatabase('rcx')]);
  // The same seed in a second database: its batch table is compared with the first one's stream table.
  await Promise.all([db.pool.query(SETUP), other.pool.query(SETUP)]);
  const ignore = { ignore: ['loaded_at'] };
  rt = runtimeFor(db, { orders: dataset({ key: ['order_id'], batch: { output: 'a.orders_batch' }, stream: { output: 'a.orders_stream' }, reconcile: ignore }) });
  crossRts = [
    runtimeFor(db, { orders: dataset({ key: ['order_id'], batch: { output: 'a.orders_batch', database: other.url }, stream: { output: 'a.orders_stream' }, reconcile: ignore }) }),
    runtimeFor(db, { orders: dataset({ key: ['order_id'], batch: { output: 'a.orders_batch' }, stream: { output: 'a.orders_stream', database: other.url }, reconcile: ignore }) }),
  ];
});
afterAll(async () => { await rt?.close(); for (const r of crossRts) await r.close(); await db?.drop(); await other?.drop(); });

const EXPECTED = [
  'changed {"order_id":30} status',
  'duplicate_key {"order_id":40}',
  'missing_in_batch {"order_id":1001}',
  'missing_in_stream {"order_id":10}',
  'missing_in_stream {"order_id":20}',
];

describe('reconcile: seeded differences (same database)', () => {
  it('finds missing, extra, one changed column, duplicate keys; exact keys and kinds', async () => {
    const [r] = await reconcileDataset(rt, 'orders', { assumeSettled: true, samples: 100 });
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(r.window).toBeNull();
    expect(r.strategy).toBe('same-database');
    expect(found(r)).toEqual(EXPECTED);
    expect(r.diff).toMatchObject({ missingInStream: 2, missingInBatch: 1, changed: 1, duplicateKeys: 1, columns: { status: 1 } });
    expect(r.batch!.rows).toBe(501);
    expect(r.stream!.rows).toBe(499);
    const changed = r.diff!.samples.find((s) => s.kind === 'changed')!;
    expect(changed.columns).toEqual({ status: { batch: 'new', stream: 'paid' } });
  });

  it('two databases: the cross-database drill-down finds the same differences as the same-database path', async () => {
    const [same] = await reconcileDataset(rt, 'orders', { assumeSettled: true, samples: 100, store: false });
    for (const cross of crossRts) {
      for (const [buckets, inMemoryRows] of [[undefined, undefined], [1, undefined], [7, undefined], [undefined, 0], [1, 0]]) {
        // inMemoryRows 0: every read goes through cursors (500-row fetches), as with large differences.
        const [x] = await reconcileDataset(cross, 'orders', { assumeSettled: true, samples: 100, store: false, buckets, inMemoryRows });
        expect(x.error).toBeUndefined();
        expect(x.strategy).toBe('cross-database');
        expect(found(x)).toEqual(EXPECTED);
        expect(x.diff).toEqual(same.diff);
        expect(x.batch).toEqual(same.batch);
        expect(x.stream).toEqual(same.stream);
      }
    }
  });

  it('the same-database path agrees with itself at any bucket count', async () => {
    for (const [buckets, inMemoryRows] of [[1, undefined], [3, undefined], [100000, undefined], [undefined, 0], [1, 0]]) {
      const [r] = await reconcileDataset(rt, 'orders', { assumeSettled: true, samples: 100, store: false, buckets, inMemoryRows });
      expect(found(r)).toEqual(EXPECTED);
    }
  });

  it('samples are bounded by --samples while counts stay exact', async () => {
    const [r] = await reconcileDataset(rt, 'orders', { assumeSettled: true, samples: 2, store: false });
    expect(r.diff!.samples.map((s) => s.kind)).toEqual(['duplicate_key', 'missing_in_stream']);
    expect(r.diff).toMatchObject({ missingInStream: 2, missingInBatch: 1, changed: 1, duplicateKeys: 1 });
  });
});
