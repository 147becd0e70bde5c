// The defect the demo plants: this "faster" version replaces the time-zone lookup with
// a table of fixed UTC offsets, written in the summer. Berlin's is right again once
// winter time starts; New York's -04:00 is an hour off after November 1st.
import transform from './orders.ts';

const OFFSETS: Record<string, string> = { 'Europe/Berlin': '+01:00', 'America/New_York': '-04:00' };

export default function transformWithFixedOffsets(row: Record<string, unknown>): Record<string, unknown> {
  const local = String(row.placed_local).replace(' ', 'T');
  return { ...transform(row), placed_at: new Date(`${local}${OFFSETS[String(row.store_tz)] ?? 'Z'}`).toISOString() };
}
