/**
 * A misspelt field inside `stream.source` or `stream.watermark` (the config's two either-or
 * objects) was reported only as "expected either { topic, format } or { table }", never naming
 * the field, while a typo anywhere else says `<path>: unknown field`. The branch the object was
 * meant for (it has that branch's required fields) now reports its own errors, with the path.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile-config.ts';

function problems(stream: Record<string, unknown>): string {
  try {
    compileConfig({ datasets: { orders: { key: ['id'], batch: { output: 'a.b' }, stream: { output: 'a.s', ...stream } } } }, { path: '/cfg/dualrun.yaml', env: {} });
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}

describe('a misspelt field in an either-or object is named with its path', () => {
  it.each([
    [{ source: { topic: 't', format: 'debezium', partitons: 3 } }, 'datasets.orders.stream.source.partitons: unknown field'],
    [{ source: { table: 'public.t', changelogRetension: '7d' } }, 'datasets.orders.stream.source.changelogRetension: unknown field'],
    [{ watermark: { column: 'updated_at', topik: 'x' } }, 'datasets.orders.stream.watermark.topik: unknown field'],
    [{ source: { topic: 't', format: 'avro' } }, 'datasets.orders.stream.source.format: expected one of'],
  ])('%j', (stream, want) => {
    const m = problems(stream);
    expect(m).toContain('/cfg/dualrun.yaml');
    expect(m).toContain(want);
    expect(m).not.toContain('expected either');
  });

  it('an object that fits neither branch still says which two shapes are expected', () => {
    expect(problems({ source: { tabel: 'public.t' } })).toContain('datasets.orders.stream.source: expected either { topic, format } (a Kafka topic) or { table }');
  });
});
