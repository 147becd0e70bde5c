/**
 * Regression: a dataset name that is not lower-case (`ignoreOk`) was reported twice, once as
 * `"ignoreOk" is not valid here (expected to match ^[a-z][a-z0-9_]{0,62}$)` and once as
 * `invalid name`; and a reconcile.map / tolerance key such as `1abc` was told to use lower-case
 * letters, though column names may have capitals. Each is said once, with that name's own rule.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile-config.ts';

const problems = (raw: unknown): string[] => {
  try { compileConfig(raw, { path: 'dualrun.yaml' }); return []; } catch (e) { return (e as { details: { problems: string[] } }).details.problems; }
};
const ds = (over: Record<string, unknown> = {}) => ({ key: ['id'], batch: { output: 'a.b' }, stream: { output: 'a.s', adopted: true }, ...over });

describe('an invalid name is one problem, with its own rule', () => {
  it('a dataset name with capitals', () => {
    expect(problems({ datasets: { ignoreOk: ds() } })).toEqual(['datasets: invalid name "ignoreOk" (expected lower-case letters, digits and _, starting with a letter)']);
  });

  it('a reconcile.map and a reconcile.tolerance key starting with a digit: identifiers, capitals allowed', () => {
    expect(problems({ datasets: { o: ds({ reconcile: { map: { '1abc': 'x' }, tolerance: { '2x': 0.1 } } }) } })).toEqual([
      'datasets.o.reconcile.tolerance: invalid name "2x" (expected an identifier: letters, digits, _ and $, not starting with a digit)',
      'datasets.o.reconcile.map: invalid name "1abc" (expected an identifier: letters, digits, _ and $, not starting with a digit)',
    ]);
  });
});
