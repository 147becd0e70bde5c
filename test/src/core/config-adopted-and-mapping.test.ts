/** Config keys of issue #15: stream.adopted / stream.watermark, reconcile.map / reconcile.expressions. */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile-config.ts';
import { requireStreamSource } from '../../../src/core/config/stream-source.ts';
import { DualrunError } from '../../../src/core/errors.ts';

function ds(stream: Record<string, unknown>, reconcile: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { datasets: { orders: { key: ['order_id'], window: { column: 'placed_at' }, batch: { output: 'dw.orders_batch' }, stream: { output: 'dw.orders_stream', ...stream }, reconcile } }, ...extra };
}

function problems(raw: unknown): string[] {
  try {
    compileConfig(raw, { path: '/x/dualrun.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(DualrunError);
    expect((e as DualrunError).exitCode).toBe(2);
    return ((e as DualrunError).details as { problems: string[] }).problems;
  }
  return [];
}

describe('stream.adopted and stream.watermark', () => {
  it('no stream.source means an adopted stream output; stream and capture cannot be asked for it', () => {
    const c = compileConfig(ds({ watermark: { column: 'updated_at' } }), { path: null });
    expect(c.datasets.orders.stream).toMatchObject({ adopted: true, source: null, watermark: { kind: 'column', column: 'updated_at' } });
    expect(() => requireStreamSource(c.datasets.orders)).toThrow(/datasets\.orders\.stream: the stream output dw\.orders_stream is adopted/);
    const own = compileConfig(ds({ source: { table: 'shop.orders' } }), { path: null });
    expect(own.datasets.orders.stream.adopted).toBe(false);
    expect(requireStreamSource(own.datasets.orders)).toMatchObject({ kind: 'table' });
  });

  it('names the field for what an adopted stream cannot have, and what only it can', () => {
    expect(problems(ds({ adopted: true, transform: 'x.ts' }))).toContainEqual(expect.stringMatching(/^datasets\.orders\.stream\.transform: an adopted stream output is written outside dualrun/));
    expect(problems(ds({ source: { table: 'shop.orders' }, watermark: { column: 'updated_at' } }))).toEqual([expect.stringMatching(/^datasets\.orders\.stream\.watermark: only for an adopted stream output/)]);
    expect(problems(ds({ adopted: false }))).toEqual(['datasets.orders.stream.source: required unless stream.adopted is true']);
    expect(problems(ds({ watermark: { kafkaGroup: 'sink', topic: 'shop.orders' } }))).toEqual([expect.stringMatching(/^datasets\.orders\.stream\.watermark\.kafkaGroup: needs a `kafka` section/)]);
    expect(problems(ds({ watermark: { column: 'a', topic: 't' } }))).toEqual([expect.stringMatching(/^datasets\.orders\.stream\.watermark: expected either \{ column \}/)]);
    const kafka = compileConfig(ds({ watermark: { kafkaGroup: 'sink', topic: 'shop.orders' } }, {}, { kafka: { brokers: ['127.0.0.1:9092'] } }), { path: null });
    expect(kafka.datasets.orders.stream.watermark).toEqual({ kind: 'kafka', group: 'sink', topic: 'shop.orders' });
  });
});

describe('reconcile.map and reconcile.expressions', () => {
  it('compiles both, frozen', () => {
    const c = compileConfig(ds({}, { map: { cust_name: 'customer_name' }, expressions: { amount: { batch: 'amount_cents / 100.0' } } }), { path: null });
    expect(c.datasets.orders.reconcile.map).toEqual({ cust_name: 'customer_name' });
    expect(c.datasets.orders.reconcile.expressions).toEqual({ amount: { batch: 'amount_cents / 100.0' } });
    expect(Object.isFrozen(c.datasets.orders.reconcile.expressions.amount)).toBe(true);
  });

  it('refuses what would make the comparison ambiguous, naming the field', () => {
    expect(problems(ds({ source: { table: 'shop.orders' } }, { map: { order_id: 'id' } }))).toEqual([expect.stringMatching(/^datasets\.orders\.reconcile\.map\.order_id: a key column can be renamed only for an adopted stream output/)]);
    expect(problems(ds({}, { map: { order_id: 'id' } }))).toEqual([]);
    expect(problems(ds({}, { map: { a: 'x', b: 'x' } }))).toEqual(['datasets.orders.reconcile.map.b: stream column x is already mapped from a']);
    expect(problems(ds({}, { expressions: { order_id: { batch: 'order_id + 0' } } }))).toEqual([expect.stringMatching(/^datasets\.orders\.reconcile\.expressions\.order_id: key columns/)]);
    expect(problems(ds({}, { expressions: { placed_at: { stream: 'placed_at' } } }))).toEqual([expect.stringMatching(/^datasets\.orders\.reconcile\.expressions\.placed_at: the window column/)]);
    expect(problems(ds({}, { expressions: { amount: {} } }))).toEqual([expect.stringMatching(/^datasets\.orders\.reconcile\.expressions\.amount: /)]);
    expect(problems(ds({}, { map: { 'bad name': 'x' } }))).toContainEqual(expect.stringMatching(/^datasets\.orders\.reconcile\.map: invalid name "bad name" \(expected an identifier/));
    expect(problems(ds({}, { map: { a: 'x; drop table y' } }))).toEqual([expect.stringMatching(/^datasets\.orders\.reconcile\.map\.a: .* is not valid here \(expected an identifier/)]);
  });
});
