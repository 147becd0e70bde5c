import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { checkZoneAgreement } from '../../reconcile/window-bounds.ts';
import { parseWindow, type Window } from '../../src/core/windows.ts';
import type { ColumnInfo } from '../../reconcile/table-columns.ts';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase('wb'); });
afterAll(async () => { await db?.drop(); });

const tstz = { name: 'placed_at', type: 'timestamptz' } as unknown as ColumnInfo;

describe('window bounds against the database tz data', () => {
  it('accepts a DST day the database places the same way (Santiago midnight jump, Havana repeated midnight)', async () => {
    await checkZoneAgreement(db.pool, parseWindow('2026-09-06', 'day', 'America/Santiago'), tstz, 'America/Santiago', 'the batch database');
    await checkZoneAgreement(db.pool, parseWindow('2026-11-01', 'day', 'America/Havana'), tstz, 'America/Havana', 'the batch database');
    await checkZoneAgreement(db.pool, parseWindow('2026-03-08T03', 'hour', 'America/New_York'), tstz, 'America/New_York', 'the batch database');
  });

  it('fails loudly, naming the window and zone, when the database would place the window elsewhere (tz data disagree)', async () => {
    const w = parseWindow('2026-09-06', 'day', 'America/Santiago');
    // What a tz copy without the 2026 rule would say: the old offset all day.
    const stale: Window = { ...w, start: new Date('2026-09-06T03:00:00Z') };
    await expect(checkZoneAgreement(db.pool, stale, tstz, 'America/Santiago', 'the stream database'))
      .rejects.toMatchObject({ code: 'DUALRUN_TIMEZONE_DATA', message: expect.stringMatching(/2026-09-06.*the stream database.*America\/Santiago/) });
    // date and timestamp columns take the label's own dates and wall clock: nothing to disagree about.
    await checkZoneAgreement(db.pool, stale, { ...tstz, type: 'date' } as ColumnInfo, 'America/Santiago', 'x');
  });
});
