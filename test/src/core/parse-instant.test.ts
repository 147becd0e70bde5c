/**
 * Times given on the command line (`stream --from-time`, `dead-letters --since/--until`,
 * `report --date`) were read by `new Date()`/`Date.parse`, which roll an impossible date
 * over (2026-02-30 → 2026-03-02: a replay started two days late, a filter moved, without
 * a word) and take text that is not ISO at all (`1` → 2001-01-01). parseInstant reads ISO
 * 8601 only and refuses dates the calendar does not have; the commands exit 2 on them.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInstant } from '../../../src/core/parse-instant.ts';
import { parseTimeOption } from '../../../streaming/dead-letter-store.ts';
import { runCli } from '../../support/cli.ts';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const daysIn = (y: number, m: number) => [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];

function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  return t.getTime();
}

describe('parseInstant', () => {
  it('reads every real date-time with its offset, and refuses every day past the month\'s end', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }),
      fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }),
      fc.integer({ min: -14 * 60, max: 14 * 60 }), fc.boolean(),
      (y, mo, d, h, mi, s, offsetMin, dateOnly) => {
        const date = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
        const zone = offsetMin === 0 ? 'Z' : `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
        const text = dateOnly ? date : `${date}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`;
        const got = parseInstant(text);
        if (d > daysIn(y, mo)) return got === null;
        const want = dateOnly ? utcMs(y, mo, d) : utcMs(y, mo, d, h, mi, s) - offsetMin * 60_000;
        return got !== null && got.getTime() === want;
      }), { numRuns: 2000 });
  });

  it.each(['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-11-20T24:00:00Z', '2026-11-20T08:60:00Z', '2026-11-20T08:00:61Z',
    '2026-11-20T08:00:00+25:00', '1', '11/20/2026', 'Nov 20 2026', '2026-11-20T08', '20261120'])('refuses %j', (text) => {
    expect(parseInstant(text)).toBeNull();
  });

  it('dead-letters --since refuses a date the calendar does not have, and still reads durations', () => {
    expect(() => parseTimeOption('--since', '2026-02-30')).toThrow(/--since: "2026-02-30" is neither a time/);
    expect(parseTimeOption('--since', '24h', new Date('2026-11-21T00:00:00Z'))?.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(parseTimeOption('--since', '2026-11-20T08:00:00+01:00')?.toISOString()).toBe('2026-11-20T07:00:00.000Z');
  });
});

describe('the commands refuse an impossible date before touching anything (exit 2)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-instant-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function config(): Promise<string> {
    // A Postgres that is not there: reaching for it would exit 3, not 2.
    const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
    const file = path.join(dir, 'dualrun.yaml');
    fs.writeFileSync(file, JSON.stringify({ database: { url: `postgres://u:pw@127.0.0.1:${port}/x` },
      datasets: { orders: { key: ['id'], batch: { output: 'public.ob' }, stream: { output: 'public.os', source: { table: 'public.o' } } } } }));
    return file;
  }

  it.each([
    [['stream', '--dataset', 'orders', '--from-time', '2026-02-30T00:00:00Z', '--until-idle'], /--from-time "2026-02-30T00:00:00Z" is not a real ISO 8601 time/],
    [['stream', '--dataset', 'orders', '--from-time', '1', '--until-idle'], /--from-time "1" is not a real ISO 8601 time/],
    [['report', '--date', '2026-02-30'], /--date: "2026-02-30" is not a real date/],
  ])('dualrun %j', async (args, message) => {
    const r = await runCli(['--config', await config(), ...args], { cwd: dir });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});
