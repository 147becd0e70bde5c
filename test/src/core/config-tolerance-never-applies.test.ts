/**
 * Regression: a `reconcile.tolerance` on a column that is never compared with one (a key column,
 * a column in reconcile.ignore, one left out of reconcile.columns) was accepted and applied
 * nothing: the user believed `amount` compared within 0.005 while it was not compared at all, or
 * compared exactly. Each is a config error naming `reconcile.tolerance.<col>` and why. Likewise
 * `reconcile.ignore` naming a key column (compared anyway) or a `reconcile.columns` entry (ignore won).
 */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile-config.ts';

const problems = (reconcile: Record<string, unknown>): string[] => {
  try {
    compileConfig({ datasets: { o: { key: ['id'], batch: { output: 'a.b' }, stream: { output: 'a.s', adopted: true }, reconcile } } }, { path: 'dualrun.yaml' });
    return [];
  } catch (e) { return (e as { details: { problems: string[] } }).details.problems; }
};

describe('a tolerance that never applies', () => {
  it.each([
    [{ tolerance: { id: 0.5 } }, 'datasets.o.reconcile.tolerance.id: id is a key column: keys are compared exactly, so the tolerance never applies'],
    [{ ignore: ['amount'], tolerance: { amount: 0.005 } }, 'datasets.o.reconcile.tolerance.amount: amount is in reconcile.ignore: it is never compared, so the tolerance never applies'],
    [{ columns: ['status'], tolerance: { amount: 0.005 } }, 'datasets.o.reconcile.tolerance.amount: amount is not in reconcile.columns: it is not compared, so the tolerance never applies'],
  ])('%j', (reconcile, message) => {
    expect(problems(reconcile)).toEqual([message]);
  });

  it('reconcile.ignore naming a key column (always compared) or a reconcile.columns entry (ignore won, silently)', () => {
    expect(problems({ ignore: ['id'] })).toEqual(['datasets.o.reconcile.ignore: id is a key column; keys are always compared, they cannot be ignored']);
    expect(problems({ columns: ['amount', 'status'], ignore: ['amount'] })).toEqual(['datasets.o.reconcile.ignore: amount is also in reconcile.columns; list it in one of the two']);
  });

  it('a tolerance on a compared column, listed or by default, or on an expression column, is fine', () => {
    expect(problems({ tolerance: { amount: 0.005 } })).toEqual([]);
    expect(problems({ columns: ['amount'], tolerance: { amount: 0.005 } })).toEqual([]);
    expect(problems({ columns: ['status'], expressions: { amount: { stream: 'cents / 100.0' } }, tolerance: { amount: 0.005 } })).toEqual([]);
  });
});
