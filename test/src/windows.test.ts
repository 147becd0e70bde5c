import { describe, expect, it } from 'vitest';
import { parseWindow, windowOf, windowsBetween } from '../../src/windows.ts';

describe('windows', () => {
  it('cuts UTC days as half-open intervals', () => {
    const w = parseWindow('2026-11-20', 'day');
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual(['2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z']);
  });
  it('starts days at local midnight and keeps 23/25-hour days across DST', () => {
    const ws = windowsBetween('2026-10-24', '2026-10-26', 'day', 'Europe/Berlin');
    expect(ws.map((w) => (w.end.getTime() - w.start.getTime()) / 3_600_000)).toEqual([24, 25, 24]);
    expect(ws[0].start.toISOString()).toBe('2026-10-23T22:00:00.000Z');
  });
  it('finds the window of an instant in the dataset time zone', () => {
    expect(windowOf(new Date('2026-11-20T23:30:00Z'), 'day', 'Europe/Berlin').label).toBe('2026-11-21');
    expect(windowOf(new Date('2026-11-20T13:59:59Z'), 'hour').label).toBe('2026-11-20T13');
  });
  it('rejects labels that are not real dates or of the wrong grain', () => {
    expect(() => parseWindow('2026-02-30', 'day')).toThrow(/not a real date/);
    expect(() => parseWindow('2026-11-20', 'hour')).toThrow(/YYYY-MM-DDTHH/);
    expect(() => windowsBetween('2026-11-20', '2026-11-19', 'day')).toThrow(/before --from/);
  });
});
