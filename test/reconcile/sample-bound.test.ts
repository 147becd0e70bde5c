/**
 * The accumulator's samples skip differences after its bound (the n-th kept at the
 * last trim) without keeping them: with 2M differences and 1,000 samples it sorted
 * 2,000 times. Whatever the arrival order, kinds, keys and n, the samples are the
 * first n of all differences sorted, exactly as before the bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiffAccumulator } from '../../reconcile/diff-accumulator.ts';
import type { Difference } from '../../reconcile/classify-difference.ts';

const KINDS = ['duplicate_key', 'missing_in_stream', 'missing_in_batch', 'changed'] as const;

describe('sample bound', () => {
  it('keeps the first n by kind then key, whatever the order', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.string({ maxLength: 3 }), fc.constantFrom(...KINDS)), { maxLength: 300, selector: ([a, b]) => `${a}|${b}` }),
      fc.integer({ min: 0, max: 12 }),
      async (items, n) => {
        const diffs: Difference[] = items.map(([a, b, kind]) => ({ k: `${a}|${b}`, key: JSON.stringify({ a, b }), kind, streamTs: null }));
        const acc = new DiffAccumulator({ samples: n, snapshotAt: null, tombstones: null, keyColumns: ['a', 'b'] });
        for (const d of diffs) await acc.add(d);
        const got = (await acc.finish()).samples.map((s) => `${s.kind} ${JSON.stringify(s.key)}`);
        const rank = (d: Difference) => KINDS.indexOf(d.kind);
        const want = [...diffs].sort((x, y) => {
          const [kx, ky] = [JSON.parse(x.key), JSON.parse(y.key)];
          return rank(x) - rank(y) || kx.a - ky.a || (kx.b < ky.b ? -1 : kx.b > ky.b ? 1 : 0);
        }).slice(0, n).map((d) => `${d.kind} ${d.key}`);
        expect(got).toEqual(want);
      },
    ), { numRuns: 300 });
  });
});
