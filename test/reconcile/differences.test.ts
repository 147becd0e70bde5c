/**
 * Seeded differences on the real Postgres, each asserting the exact keys and
 * kinds the reconciler finds, plus the encodings that must compare equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import type { WindowResult } from '../../reconcile/types.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

/** Every difference as `kind key-json [columns]`, sorted: the exact set to assert. */
export function found(r: WindowResult): string[] {
  return (r.diff?.samples ?? []).map((s) => `${s.kind} ${JSON.stringify(s.key)}${s.columns ? ` ${Object.keys(s.columns).sort().join(',')}` : ''}`).sort();
}

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
INSERT INTO a.orders_stream (order_id, customer, amount, status, note, qty, placed_at) VALUES (1001, 'x', 1, 'new', 'n', 1, now()); -- missing in batch
UPDATE a.orders_stream SET status = 'paid' WHERE order_id = 30;               -- one changed column among many
INSERT INTO a.orders_batch (order_id, customer, amount, status, note, qty, placed_at)
  SELECT order_id, customer, amount, status, note, qty, placed_at FROM a.orders_batch WHERE order_id = 40;  -- duplicate key
UPDATE a.orders_stream SET amount = amount * 1.0000 WHERE order_id = 50;     -- 10.0 vs 10.00: equal
UPDATE a.orders_stream SET loaded_at_dummy = 1 WHERE false;
`;

beforeAll(async () => {
  db = await freshDatabase();
  await db.pool.query(SETUP.replace(/UPDATE a.orders_stream SET loaded_at_dummy.*\n/, ''));
  rt = runtimeFor(db, {
    orders: dataset({ key: ['order_id'], batch: { output: 'a.orders_batch' }, stream: { output: 'a.orders_stream' }, reconcile: { ignore: ['loaded_at'] } }),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('reconcile: seeded differences (same database)', () => {
  it('finds missing, extra, one changed column, duplicate keys; exact keys and kinds', async () => {
    const [r] = await reconcileDataset(rt, 'orders', { assumeSettled: true, samples: 100 });
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(r.window).toBeNull();
    expect(found(r)).toEqual([
      'changed {"order_id":30} status',
      'duplicate_key {"order_id":40}',
      'missing_in_batch {"order_id":1001}',
      'missing_in_stream {"order_id":10}',
      'missing_in_stream {"order_id":20}',
    ]);
    expect(r.diff).toMatchObject({ missingInStream: 2, missingInBatch: 1, changed: 1, duplicateKeys: 1, columns: { status: 1 } });
    expect(r.batch!.rows).toBe(501);
    expect(r.stream!.rows).toBe(499);
    const changed = r.diff!.samples.find((s) => s.kind === 'changed')!;
    expect(changed.columns).toEqual({ status: { batch: 'new', stream: 'paid' } });
  });
});
