import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile-config.ts';
import { parseConfigText } from '../../../src/core/config/load-config.ts';
import { DualrunError } from '../../../src/core/errors.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-cfg-'));
fs.writeFileSync(path.join(dir, 'q.sql'), 'SELECT 1');

function base(): Record<string, any> {
  return {
    datasets: {
      orders: {
        key: ['order_id'],
        window: { column: 'order_date', grain: 'day' },
        batch: { output: 'analytics.orders_batch', query: 'q.sql', schedule: '0 2 * * *' },
        stream: { output: 'analytics.orders_stream', source: { topic: 'shop.public.orders', format: 'debezium' } },
        reconcile: { ignore: ['loaded_at'], tolerance: { amount: 0.005 }, settle: '15m' },
        cutover: { serve: 'analytics.orders', promoteAfter: 7, maxEvidenceAge: '48h' },
      },
    },
  };
}

const compile = (raw: unknown, env: Record<string, string> = {}) => compileConfig(raw, { path: path.join(dir, 'dualrun.yaml'), env });

function errorOf(fn: () => unknown): DualrunError {
  try { fn(); } catch (e) { return e as DualrunError; }
  throw new Error('expected an error');
}

describe('compileConfig', () => {
  it('compiles a valid config into a frozen, typed form with quoted identifiers', () => {
    const c = compile(base());
    const ds = c.datasets.orders;
    expect(ds.batch.output.sql).toBe('"analytics"."orders_batch"');
    expect(ds.batch.query).toBe(path.join(dir, 'q.sql'));
    expect(ds.reconcile.settleMs).toBe(15 * 60_000);
    expect(ds.cutover.maxEvidenceAgeMs).toBe(48 * 3_600_000);
    expect(ds.stream.source).toEqual({ kind: 'topic', topic: 'shop.public.orders', format: 'debezium' });
    expect(c.database.url).toBeNull();
    expect(Object.isFrozen(ds.key)).toBe(true);
    expect(() => { (c.datasets.orders as any).key = []; }).toThrow();
  });

  it('interpolates ${VAR} and ${VAR:-default}', () => {
    const raw = base();
    raw.database = { url: '${DB_URL}' };
    raw.datasets.orders.stream.source.topic = '${TOPIC:-fallback.topic}';
    const c = compile(raw, { DB_URL: 'postgres://u:pw@db:5432/dw' });
    expect(c.database.url).toBe('postgres://u:pw@db:5432/dw');
    expect((c.datasets.orders.stream.source as any).topic).toBe('fallback.topic');
  });

  const invalid: [string, (r: Record<string, any>) => unknown, string | RegExp][] = [
    ['missing key', (r) => { delete r.datasets.orders.key; }, 'datasets.orders.key: required field is missing'],
    ['unknown field', (r) => { r.datasets.orders.batch.outptu = 'x'; }, 'datasets.orders.batch.outptu: unknown field'],
    ['bad cron', (r) => { r.datasets.orders.batch.schedule = '61 2 * * *'; }, 'datasets.orders.batch.schedule: invalid cron expression "61 2 * * *"'],
    ['bad identifier', (r) => { r.datasets.orders.batch.output = 'orders; drop table x'; }, /datasets\.orders\.batch\.output: "orders; drop table x" is not valid here \(expected schema\.table/],
    ['bad key column', (r) => { r.datasets.orders.key = ['order id']; }, /datasets\.orders\.key\.0: "order id" is not valid here \(expected an identifier/],
    ['unknown env var', (r) => { r.database = { url: '${NOPE_NOT_SET}' }; }, 'database.url: environment variable NOPE_NOT_SET is not set'],
    ['wrong type', (r) => { r.datasets.orders.cutover.promoteAfter = 'seven'; }, 'datasets.orders.cutover.promoteAfter: expected integer'],
    ['bad duration', (r) => { r.datasets.orders.reconcile.settle = '15 minutes'; }, /datasets\.orders\.reconcile\.settle: "15 minutes" is not valid here \(expected a duration/],
    ['bad grain', (r) => { r.datasets.orders.window.grain = 'week'; }, 'datasets.orders.window.grain: expected one of "hour", "day"'],
    ['bad stream source', (r) => { r.datasets.orders.stream.source = { queue: 'x' }; }, 'datasets.orders.stream.source: expected either { topic, format }'],
    ['missing query file', (r) => { r.datasets.orders.batch.query = 'nope.sql'; }, 'datasets.orders.batch.query: file not found: nope.sql'],
    ['same output twice', (r) => { r.datasets.orders.stream.output = 'analytics.orders_batch'; }, 'datasets.orders.stream.output: analytics.orders_batch is already used by datasets.orders.batch.output'],
    ['bad dataset name', (r) => { r.datasets['Orders-2'] = r.datasets.orders; }, 'datasets: invalid name "Orders-2"'],
    ['bad url', (r) => { r.database = { url: 'mysql://x@y/z' }; }, 'database.url: expected a postgres:// connection string'],
    ['bad time zone', (r) => { r.datasets.orders.window.timezone = 'Mars/Base'; }, 'datasets.orders.window.timezone: unknown time zone "Mars/Base"'],
    ['key column in columns', (r) => { r.datasets.orders.reconcile.columns = ['order_id']; }, 'datasets.orders.reconcile.columns: order_id is a key column'],
  ];

  for (const [name, mutate, message] of invalid) {
    it(`rejects ${name} with the config path and exit code 2`, () => {
      const raw = base();
      mutate(raw);
      const err = errorOf(() => compile(raw));
      expect(err).toBeInstanceOf(DualrunError);
      expect(err.code).toBe('DUALRUN_CONFIG_INVALID');
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain(path.join(dir, 'dualrun.yaml'));
      if (typeof message === 'string') expect(err.message).toContain(message);
      else expect(err.message).toMatch(message);
    });
  }

  it('reports YAML syntax errors with file and line', () => {
    const err = errorOf(() => parseConfigText('datasets:\n  orders: [\n', '/x/dualrun.yaml'));
    expect(err.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(err.message).toMatch(/^\/x\/dualrun\.yaml:\d+:\d+: /);
  });

  it('rejects duplicate YAML keys instead of silently taking the last', () => {
    const err = errorOf(() => parseConfigText('datasets: {}\ndatasets: {}\n', '/x/dualrun.yaml'));
    expect(err.message).toContain('/x/dualrun.yaml');
  });
});
