/**
 * Which config changes make earlier evidence stop counting (docs/cutover.md, rule 4.1):
 * every key that could change a verdict changes the definition; what cannot change a
 * row (schedules, settle, cutover, bucket count, a password) does not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { datasetDefinition } from '../../../../src/core/cutover/dataset-definition.ts';
import { tempDir } from './cutover-fixture.ts';

type Raw = Record<string, any>;

const dir = tempDir();
fs.writeFileSync(path.join(dir, 'orders.sql'), 'SELECT * FROM shop.orders WHERE order_date >= :window_start AND order_date < :window_end');
fs.writeFileSync(path.join(dir, 'other.sql'), 'SELECT * FROM shop.orders_v2 WHERE order_date >= :window_start AND order_date < :window_end');

function base(): Raw {
  return {
    key: ['order_id'],
    window: { column: 'order_date', grain: 'day', timezone: 'UTC' },
    batch: { output: 'analytics.orders_batch', query: 'orders.sql', schedule: '0 2 * * *' },
    stream: { output: 'analytics.orders_stream', source: { topic: 'shop.orders' } },
    reconcile: { columns: ['amount', 'status'], ignore: ['loaded_at'], tolerance: { amount: 0.005 }, settle: '15m', schedule: '30 3 * * *' },
    cutover: { promoteAfter: 7, retireAfter: 7, maxEvidenceAge: '48h', minRowsPerWindow: 1 },
  };
}

function fingerprint(mutate: (ds: Raw) => void = () => undefined): string {
  const ds = base();
  mutate(ds);
  const cfg = compileConfig({ database: { url: 'postgres://u@db.example:5432/dw' }, datasets: { orders: ds } }, { path: path.join(dir, 'dualrun.yaml') });
  return datasetDefinition(cfg.datasets.orders).fingerprint;
}

const changesAVerdict: Record<string, (ds: Raw) => void> = {
  'key': (ds) => { ds.key = ['order_id', 'line_no']; },
  'window.column': (ds) => { ds.window.column = 'shipped_date'; },
  'window.grain': (ds) => { ds.window.grain = 'hour'; },
  'window.timezone': (ds) => { ds.window.timezone = 'Europe/Berlin'; },
  'batch.output': (ds) => { ds.batch.output = 'analytics.orders_batch_v2'; },
  'batch.query (another file)': (ds) => { ds.batch.query = 'other.sql'; },
  'batch.database (another database)': (ds) => { ds.batch.database = 'postgres://u:pw@legacy.example:5432/dw'; },
  'batch.source.url (another source)': (ds) => { ds.batch.source = { url: 'postgres://u:pw@oltp.example:5432/shop' }; },
  'stream.output': (ds) => { ds.stream.output = 'analytics.orders_stream_v2'; },
  'stream.database (another database)': (ds) => { ds.stream.database = 'postgres://u:pw@stream.example:5432/dw'; },
  'stream.source.topic': (ds) => { ds.stream.source.topic = 'shop.orders.v2'; },
  'reconcile.columns': (ds) => { ds.reconcile.columns = ['amount']; },
  'reconcile.ignore': (ds) => { ds.reconcile.ignore = ['loaded_at', 'note']; },
  'reconcile.tolerance': (ds) => { ds.reconcile.tolerance = { amount: 0.5 }; },
  'reconcile.map': (ds) => { ds.reconcile.map = { status: 'state' }; },
  'reconcile.expressions': (ds) => { ds.reconcile.expressions = { status: { stream: 'lower(status)' } }; },
};

const changesNoVerdict: Record<string, (ds: Raw) => void> = {
  'batch.schedule': (ds) => { ds.batch.schedule = '0 4 * * *'; },
  'reconcile.schedule': (ds) => { ds.reconcile.schedule = '0 5 * * *'; },
  'reconcile.settle (rule 4.3 applies the current one)': (ds) => { ds.reconcile.settle = '2h'; },
  'reconcile.buckets': (ds) => { ds.reconcile.buckets = 64; },
  'cutover.*': (ds) => { ds.cutover = { promoteAfter: 3, retireAfter: 2, maxEvidenceAge: '7d', minRowsPerWindow: 5 }; },
};

describe('dataset definition', () => {
  const before = fingerprint();
  it.each(Object.entries(changesAVerdict))('changing %s makes earlier evidence stop counting', (_name, mutate) => {
    expect(fingerprint(mutate)).not.toBe(before);
  });
  it.each(Object.entries(changesNoVerdict))('changing %s keeps the evidence', (_name, mutate) => {
    expect(fingerprint(mutate)).toBe(before);
  });

  it('pointing a side at another database changes the definition, a new password or TLS setting does not (evidence about another database counted)', () => {
    const url = (host: string, db: string, password: string, extra: string) =>
      `postgres://etl:${encodeURIComponent(password)}@${host}:5432/${db}${extra}`;
    const on = (u: string) => fingerprint((ds) => { ds.batch.database = u; });
    const host = fc.constantFrom('legacy-a.example', 'legacy-b.example', '10.0.0.7');
    const db = fc.constantFrom('dw', 'dw_restore', 'analytics');
    const extra = fc.constantFrom('', '?sslmode=require', '?connect_timeout=5&application_name=x');
    fc.assert(fc.property(host, db, fc.string(), fc.string(), extra, extra, (h, d, pw1, pw2, x1, x2) => {
      expect(on(url(h, d, pw1, x1))).toBe(on(url(h, d, pw2, x2)));
    }), { numRuns: 60 });
    fc.assert(fc.property(fc.tuple(host, db), fc.tuple(host, db), fc.string(), ([h1, d1], [h2, d2], pw) => {
      fc.pre(h1 !== h2 || d1 !== d2);
      expect(on(url(h1, d1, pw, ''))).not.toBe(on(url(h2, d2, pw, '')));
    }), { numRuns: 60 });
  });
});
