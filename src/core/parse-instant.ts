/**
 * A point in time given on the command line (`--from-time`, `--since`, `--until`,
 * `--date`): ISO 8601 only, and only real ones. `new Date()`/`Date.parse` roll an
 * impossible date over (2026-02-30 became 2026-03-02, so a replay started two days
 * late without a word) and accept text that is not ISO at all (`1` is 2001-01-01,
 * `11/20/2026` the machine's local time).
 */

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A date alone (YYYY-MM-DD, midnight UTC), or the Date of a real ISO 8601 date-time; null otherwise. */
export function parseInstant(text: string): Date | null {
  const d = DATE_ONLY.exec(text);
  if (d) return realDate(+d[1], +d[2], +d[3]) ? new Date(Date.parse(`${text}T00:00:00Z`)) : null;
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [h, min, s] = [+m[4], +m[5], +(m[6] ?? 0)];
  if (!realDate(+m[1], +m[2], +m[3]) || h > 23 || min > 59 || s > 59) return null;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z') {
    const [oh, om] = [+zone.slice(1, 3), +(zone.slice(3).replace(':', '') || 0)];
    if (oh > 23 || om > 59) return null;
  }
  // Normalised to what Date.parse reads the same everywhere (no zone: the machine's local time, as ISO says).
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${(m[7] ?? '').slice(0, 4)}${zone ? normalZone(zone) : ''}`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t);
}

/** Whether YYYY-MM-DD names a day of the calendar (no 2026-02-30, no month 13). */
export function realDate(y: number, mo: number, d: number): boolean {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // Date.UTC would read years 0-99 as 1900-1999
  return mo >= 1 && mo <= 12 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function normalZone(zone: string): string {
  if (zone === 'Z') return 'Z';
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
}
