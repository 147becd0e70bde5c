/**
 * Regression: a misspelt config field (`reconcile.ignroe`, `windw`, `database.ulr`) was reported as
 * only `unknown field`, leaving the user to find the right spelling in the reference. It now names
 * the nearest field of that object (`did you mean ignore?`), and a case slip says case matters.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileConfig } from '../../../src/core/config/compile-config.ts';

const problems = (raw: unknown): string[] => {
  try { compileConfig(raw, { path: 'dualrun.yaml' }); return []; } catch (e) { return ((e as { details: { problems: string[] } }).details.problems); }
};
const ds = (over: Record<string, unknown>) => ({ key: ['id'], batch: { output: 'a.b' }, stream: { output: 'a.s', adopted: true }, ...over });

describe('an unknown config field names the nearest known one', () => {
  it.each([
    [{ database: { ulr: 'x' } }, 'database.ulr: unknown field (did you mean url?)'],
    [{ datasets: { o: ds({ windw: { column: 'd' } }) } }, 'datasets.o.windw: unknown field (did you mean window?)'],
    [{ datasets: { o: ds({ reconcile: { ignroe: ['x'] } }) } }, 'datasets.o.reconcile.ignroe: unknown field (did you mean ignore?)'],
    [{ datasets: { o: ds({ cutover: { promoteafter: 3 } }) } }, 'datasets.o.cutover.promoteafter: unknown field (did you mean promoteAfter? names are case-sensitive'],
  ])('%j', (raw, message) => {
    expect(problems(raw).join('\n')).toContain(message);
  });

  it('a field far from every known one gets no guess', () => {
    expect(problems({ datasets: { o: ds({ reconcile: { zzzzzzzz: 1 } }) } })).toContain('datasets.o.reconcile.zzzzzzzz: unknown field');
  });

  it('one dropped letter of any reconcile field suggests that field (fast-check)', () => {
    const fields = ['columns', 'ignore', 'tolerance', 'settle', 'schedule', 'buckets', 'expressions'];
    fc.assert(fc.property(fc.constantFrom(...fields), fc.nat(), (field, i) => {
      const at = i % field.length;
      const typo = field.slice(0, at) + field.slice(at + 1);
      const all = problems({ datasets: { o: ds({ reconcile: { [typo]: 1 } }) } }).join('\n');
      expect(all).toContain(`datasets.o.reconcile.${typo}: unknown field (did you mean ${field}?)`);
    }), { numRuns: 100, seed: 20261202 });
  });
});
