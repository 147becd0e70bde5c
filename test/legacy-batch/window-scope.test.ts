import { describe, expect, it } from 'vitest';
import { zonedTimestamp } from '../../src/core/windows.ts';
import { parseWindow } from '../../src/core/windows.ts';
import { windowScope } from '../../legacy-batch/window-scope.ts';
import type { DatasetConfig } from '../../src/core/config/types.ts';

const ds = { name: 'orders', window: { column: 'placed_at', grain: 'day', timezone: 'America/Santiago' } } as unknown as DatasetConfig;

describe('window bounds as parameters', () => {
  it('writes wall-clock time in the dataset zone with its offset, so a date column gets the local day', () => {
    const w = parseWindow('2026-11-20', 'day', 'Europe/Paris');
    expect(zonedTimestamp(w.start, 'Europe/Paris')).toBe('2026-11-20 00:00:00+01:00');
    expect(zonedTimestamp(w.end, 'Europe/Paris')).toBe('2026-11-21 00:00:00+01:00');
    expect(zonedTimestamp(w.start, 'UTC')).toBe('2026-11-19 23:00:00+00:00');
  });

  it('follows daylight saving changes and hour windows', () => {
    const w = parseWindow('2026-03-29', 'day', 'Europe/Paris');
    expect([zonedTimestamp(w.start, 'Europe/Paris'), zonedTimestamp(w.end, 'Europe/Paris')]).toEqual(['2026-03-29 00:00:00+01:00', '2026-03-30 00:00:00+02:00']);
    const h = parseWindow('2026-11-20T13', 'hour', 'America/New_York');
    expect(zonedTimestamp(h.start, 'America/New_York')).toBe('2026-11-20 13:00:00-05:00');
  });

  it('a day starting at a midnight jump binds the label day, its wall clock and the jump instant (Santiago)', () => {
    const w = parseWindow('2026-09-06', 'day', 'America/Santiago');
    expect(windowScope(ds, w).params).toEqual(['2026-09-06 00:00:00-04:00', '2026-09-07 00:00:00-03:00']);
  });
});
