import { describe, expect, it } from 'vitest';
import { boundParam, parseWindow, windowOf, windowsBetween } from '../../../src/core/windows.ts';
import { windowBounds } from '../../../reconcile/window-bounds.ts';
import type { ColumnInfo } from '../../../reconcile/table-columns.ts';

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

describe('windows on DST days (local midnight or an hour the clocks skip or repeat)', () => {
  const iso = (ws: { start: Date; end: Date }[]) => ws.map((w) => [w.start.toISOString(), w.end.toISOString()]);
  const col = (type: string) => ({ name: 'c', type }) as unknown as ColumnInfo;

  it('a day before a midnight jump keeps its last hour (Santiago 2026-09-05 used to end at 23:00 and a --from/--to range never ended)', () => {
    // Chile: Saturday 2026-09-05 24:00 -04 becomes Sunday 01:00 -03.
    const ws = windowsBetween('2026-09-05', '2026-09-07', 'day', 'America/Santiago');
    expect(iso(ws)).toEqual([
      ['2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z'],
      ['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z'],
      ['2026-09-07T03:00:00.000Z', '2026-09-08T03:00:00.000Z'],
    ]);
    expect(windowOf(new Date('2026-09-06T03:30:00Z'), 'day', 'America/Santiago').label).toBe('2026-09-05');
    expect(windowOf(new Date('2026-09-06T04:00:00Z'), 'day', 'America/Santiago').label).toBe('2026-09-06');
  });

  it('a repeated local midnight hour starts the day at its first occurrence (Havana 2026-11-01)', () => {
    // Cuba: 01:00 CDT becomes 00:00 CST, so 00:00–00:59 happens twice; Postgres's naive AT TIME ZONE takes the second.
    const w = parseWindow('2026-11-01', 'day', 'America/Havana');
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
    expect(windowOf(new Date('2026-11-01T04:30:00Z'), 'day', 'America/Havana').label).toBe('2026-11-01');
  });

  it('a midnight jump in Beirut and hours skipped or repeated in New York', () => {
    expect(iso([parseWindow('2026-03-29', 'day', 'Asia/Beirut')])).toEqual([['2026-03-28T22:00:00.000Z', '2026-03-29T21:00:00.000Z']]);
    const spring = windowsBetween('2026-03-08T01', '2026-03-08T03', 'hour', 'America/New_York');
    expect(spring.map((w) => w.label)).toEqual(['2026-03-08T01', '2026-03-08T03']);
    expect(spring[0].end.getTime()).toBe(spring[1].start.getTime());
    expect(() => parseWindow('2026-03-08T02', 'hour', 'America/New_York')).toThrow(/does not exist in America\/New_York/);
    const fall = parseWindow('2026-11-01T01', 'hour', 'America/New_York');
    expect((fall.end.getTime() - fall.start.getTime()) / 3_600_000).toBe(2);
    expect(windowOf(new Date('2026-11-01T06:30:00Z'), 'hour', 'America/New_York').label).toBe('2026-11-01T01');
  });

  it('a day the zone skips is left out of ranges and refused as a window (Apia 2011-12-30)', () => {
    const ws = windowsBetween('2011-12-29', '2011-12-31', 'day', 'Pacific/Apia');
    expect(ws.map((w) => w.label)).toEqual(['2011-12-29', '2011-12-31']);
    expect(ws[0].end.getTime()).toBe(ws[1].start.getTime());
    expect(() => parseWindow('2011-12-30', 'day', 'Pacific/Apia')).toThrow(/does not exist in Pacific\/Apia .*belongs to window 2011-12-31/);
  });

  it('a skipped day or hour is in no window of a date or timestamp column: its wall clock was dropped (Apia 2011-12-30, Paris 02:30 on 2026-03-29)', () => {
    // The instants tiled, the wall clock did not: `date '2011-12-30'` and `timestamp '2026-03-29 02:30'` were loaded and
    // compared in no window. They belong to the window after the skipped span, where Postgres reads them (02:30 is 03:30 CEST).
    const apia = windowsBetween('2011-12-29', '2011-12-31', 'day', 'Pacific/Apia');
    expect(apia.map((w) => windowBounds(w, col('date')))).toEqual([['2011-12-29', '2011-12-30'], ['2011-12-30', '2012-01-01']]);
    expect(windowBounds(parseWindow('2011-12-31', 'day', 'Pacific/Apia'), col('date'))).toEqual(['2011-12-30', '2012-01-01']);
    expect(boundParam(apia[1], 'start')).toBe('2011-12-30 00:00:00-10:00');
    const paris = windowsBetween('2026-03-29T00', '2026-03-29T04', 'hour', 'Europe/Paris');
    expect(paris.map((w) => [w.label, w.localStart.slice(11), w.localEnd.slice(11)])).toEqual([
      ['2026-03-29T00', '00:00:00', '01:00:00'], ['2026-03-29T01', '01:00:00', '02:00:00'], ['2026-03-29T03', '02:00:00', '04:00:00'], ['2026-03-29T04', '04:00:00', '05:00:00']]);
    expect(parseWindow('2026-03-29T03', 'hour', 'Europe/Paris').localStart).toBe('2026-03-29 02:00:00');
    expect(boundParam(paris[2], 'start')).toBe('2026-03-29 02:00:00+01:00');
    expect(windowOf(new Date('2026-03-29T01:30:00Z'), 'hour', 'Europe/Paris').localStart).toBe('2026-03-29 02:00:00');
    expect(() => parseWindow('2026-03-29T02', 'hour', 'Europe/Paris')).toThrow(/belongs to window 2026-03-29T03/);
  });

  it('bounds per column type: local dates, the label wall clock, instants; batch parameters read right as each', () => {
    const w = parseWindow('2026-09-06', 'day', 'America/Santiago');
    expect(windowBounds(w, col('date'))).toEqual(['2026-09-06', '2026-09-07']);
    expect(windowBounds(w, col('timestamp'))).toEqual(['2026-09-06 00:00:00', '2026-09-07 00:00:00']);
    expect(windowBounds(w, col('timestamptz'))).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
    expect([boundParam(w, 'start'), boundParam(w, 'end')]).toEqual(['2026-09-06 00:00:00-04:00', '2026-09-07 00:00:00-03:00']);
  });
});
