/** When a window may be loaded as complete: its end plus reconcile.settle (pure). */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { parseWindow } from '../../src/core/windows.ts';
import { assertDue, dueAt, lastDueWindow } from '../../legacy-batch/due-window.ts';

function dataset(grain: 'day' | 'hour', settle: string, timezone = 'UTC') {
  const cfg = compileConfig({ datasets: { d: {
    key: ['id'], window: { column: 'at', grain, timezone }, reconcile: { settle },
    batch: { output: 'public.d_batch' }, stream: { output: 'public.d_stream', source: { topic: 't' } },
  } } }, { path: null });
  return cfg.datasets.d;
}

describe('due windows', () => {
  it('a window is due at its end plus settle; the scheduler picks the newest due window', () => {
    const ds = dataset('hour', '15m');
    expect(dueAt(ds, parseWindow('2026-11-20T09', 'hour')).toISOString()).toBe('2026-11-20T10:15:00.000Z');
    expect(lastDueWindow(ds, new Date('2026-11-20T10:05:00Z'))?.label).toBe('2026-11-20T08');
    expect(lastDueWindow(ds, new Date('2026-11-20T10:15:00Z'))?.label).toBe('2026-11-20T09');
    const day = dataset('day', '0s', 'America/New_York');
    expect(lastDueWindow(day, new Date('2026-11-21T04:59:00Z'))?.label).toBe('2026-11-19');
    expect(lastDueWindow(day, new Date('2026-11-21T05:00:00Z'))?.label).toBe('2026-11-20');
  });

  it('an hour still in progress is refused, saying when it can run (a window loaded before it ended read as complete forever)', () => {
    const ds = dataset('hour', '15m');
    const w = parseWindow('2026-11-20T13', 'hour');
    expect(() => assertDue(ds, [w], new Date('2026-11-20T13:30:00Z'))).toThrow(
      /window 2026-11-20T13 cannot be loaded as complete yet: it ends 2026-11-20T14:00:00.000Z and the settle allowance \(datasets\.d\.reconcile\.settle\) runs until 2026-11-20T14:15:00.000Z; run it then, or pass --partial/);
    const caught = (() => { try { assertDue(ds, [w], new Date('2026-11-20T14:10:00Z')); return null; } catch (e) { return e; } })();
    expect(caught).toMatchObject({ code: 'DUALRUN_WINDOW_NOT_DUE', exitCode: 2, details: { window: '2026-11-20T13', dueAt: '2026-11-20T14:15:00.000Z' } });
    expect(() => assertDue(ds, [w, null], new Date('2026-11-20T14:15:00Z'))).not.toThrow();
  });
});
