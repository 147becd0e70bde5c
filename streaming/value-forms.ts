/**
 * Source values are data, never Postgres input words. Postgres reads `'yesterday'`,
 * `'now'`, `'epoch'`, `'infinity'` or `'allballs'` as real dates and times, `'NaN'`
 * and `'Infinity'` as numbers and `'yes'`/`'on'` as booleans; a record carrying such
 * a value would be applied as something it never said. So every value bound to a
 * date/time, numeric or boolean column is checked here, by the column's type, before
 * it reaches Postgres; a value outside the accepted forms makes its record an
 * `apply` dead letter with the reason. The accepted forms are listed in
 * docs/streaming.md ("Accepted value forms").
 */
import type { JsonRow } from './change-event.ts';
import type { OutputColumn } from './output-table.ts';
import { ExactNumber } from './exact-number.ts';

/** A value Postgres would not read as the data it is, with why. */
export interface ValueRefusal {
  readonly column: string;
  readonly type: string;
  readonly value: string;
  readonly reason: string;
}

// Years of 4 or more digits (Postgres writes 294276-12-31), and ` BC` at the end (as Postgres writes it) below.
const DATE = String.raw`\d{4,}-\d{2}-\d{2}`;
const BC = '(?: BC)?';
// Seconds 00-59: Postgres reads a leap second :60 as the next minute (23:59:60 on 2024-02-29 became 2024-03-01 00:00:00).
const TIME = String.raw`\d{2}:\d{2}(?::[0-5]\d(?:\.\d{1,6})?)?`;
const ZONE = String.raw`(?:Z|[+-]\d{2}(?::?\d{2})?)`;
const FORMS: Record<string, { re: RegExp; form: string }> = {
  date: { re: new RegExp(`^${DATE}${BC}$`), form: 'YYYY-MM-DD[ BC]' },
  timestamp: { re: new RegExp(`^${DATE}(?:[T ]${TIME})?${BC}$`), form: 'YYYY-MM-DD[THH:MM[:SS[.ffffff]]][ BC]' },
  timestamptz: { re: new RegExp(`^${DATE}(?:[T ]${TIME}${ZONE}?)?${BC}$`), form: 'YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|±HH[:MM]][ BC]' },
  time: { re: new RegExp(`^${TIME}$`), form: 'HH:MM[:SS[.ffffff]]' },
  timetz: { re: new RegExp(`^${TIME}${ZONE}$`), form: 'HH:MM[:SS[.ffffff]]Z|±HH[:MM]' },
};
const NUMBER_WORD = /^\s*[+-]?(nan|inf|infinity)\s*$/i;
const SUB_MICROSECOND = /\.\d{7}/;
// A number without a unit: Postgres reads it as seconds, while Debezium's default interval.handling.mode=numeric
// sends microseconds (io.debezium.time.MicroDuration; its 64-bit values beyond 2^53 arrive as their digits).
const BARE_NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;
const BARE_INTERVAL = 'a number without a unit, which Postgres reads as seconds (Debezium\'s interval.handling.mode=numeric sends microseconds, which would be stored a million times too long): send text with units (P1DT2H, 1 day 02:00:00; Debezium interval.handling.mode=string)';
const BYTEA_HEX = /^\\x(?:[0-9a-fA-F]{2})*$/;
const NUMERIC_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);

/** Why a value is not data for a column, or null. */
type ValueCheck = (v: unknown) => string | null;

/** Per column list, the columns that have a check and their check: decided once, not per row. */
const compiled = new WeakMap<readonly OutputColumn[], readonly { column: OutputColumn; check: ValueCheck }[]>();

/** The first value of `row` that is not data for its column, or null. Undefined (absent) columns are skipped. */
export function refuseInputWords(row: JsonRow, columns: readonly OutputColumn[]): ValueRefusal | null {
  let checks = compiled.get(columns);
  if (!checks) {
    checks = columns.flatMap((column) => { const check = column.scalar ? checkFor(column) : arrayCheckFor(column); return check ? [{ column, check }] : []; });
    compiled.set(columns, checks);
  }
  for (const { column: c, check } of checks) {
    const v = row[c.name];
    if (v === undefined || v === null) continue;
    const why = check(v);
    if (why) return { column: c.name, type: c.type, value: shown(v), reason: why };
  }
  return null;
}

/** The check a column's type needs, or null (values Postgres reads only as what they say). */
function checkFor(c: OutputColumn): ValueCheck | null {
  const form = FORMS[c.typname];
  if (form) {
    return (v) => {
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'an invalid Date' : null;
      if (typeof v !== 'string') return `a ${typeof v}, where ${c.type} takes ISO 8601 text (${form.form})`;
      return form.re.test(v) ? null : `not ISO 8601 (${form.form}); Postgres input words such as now, today, yesterday, epoch, infinity are refused`;
    };
  }
  // Other malformed numbers are left to Postgres, which rejects them with its own reason.
  if (NUMERIC_TYPES.has(c.typname)) {
    return (v) => {
      if (typeof v === 'number') return Number.isFinite(v) ? null : 'not a finite number';
      return typeof v === 'string' && NUMBER_WORD.test(v) ? 'a Postgres input word, not a number (NaN and Infinity are refused)' : null;
    };
  }
  if (c.typname === 'bool') {
    return (v) => {
      if (typeof v === 'boolean') return null;
      if (typeof v === 'string' && /^(true|false|t|f)$/i.test(v)) return null;
      return 'not a boolean: true/false (or "t"/"f"); words such as yes, on, 1 are refused';
    };
  }
  if (c.typname === 'interval') {
    return (v) => {
      // (An ExactNumber: a 64-bit number inside an interval[] value, which keeps its digits as a JSON number.)
      if (typeof v === 'number' || v instanceof ExactNumber || (typeof v === 'string' && BARE_NUMBER.test(v))) return BARE_INTERVAL;
      if (typeof v !== 'string') return null;
      if (NUMBER_WORD.test(v)) return 'an infinite interval (a Postgres input word, refused)';
      return SUB_MICROSECOND.test(v) ? 'more than 6 fractional digits: Postgres keeps microseconds and would round the rest away' : null;
    };
  }
  if (c.typname === 'bytea') {
    return (v) => ((typeof v === 'string' ? BYTEA_HEX.test(v) : v instanceof Uint8Array) ? null
      : 'not hex bytea text (\\x followed by hex digit pairs): other text, e.g. base64 (Debezium\'s default for binary columns) or escape format, would be stored as the bytes of its characters');
  }
  return null;
}

/**
 * An array column's elements get their element type's check: Postgres reads `["now"]` into
 * timestamptz[] as the current time, `["yes"]` into boolean[] as true, as it would a scalar.
 * Text (a Postgres array literal, `{now}`) is read so too and its elements cannot be checked
 * here: refused, a JSON array is asked for.
 */
function arrayCheckFor(c: OutputColumn): ValueCheck | null {
  if (c.elementTypname === null) return null;
  const element = checkFor({ ...c, typname: c.elementTypname, type: c.type.replace(/(\[\])+$/, ''), scalar: true, elementTypname: null });
  if (!element) return null;
  const first = (v: readonly unknown[], at: string): string | null => {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === null || x === undefined) continue;
      const why = Array.isArray(x) ? first(x, `${at}[${i}]`) : element(x);
      if (why) return Array.isArray(x) ? why : `element ${at}[${i}] ${JSON.stringify(x) ?? String(x)}: ${why}`;
    }
    return null;
  };
  return (v) => {
    if (Array.isArray(v)) return first(v, '');
    return typeof v === 'string' ? `array literal text, whose elements Postgres would read as input words (now, infinity, NaN, yes) unchecked: send a JSON array` : null;
  };
}

function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : v instanceof Date ? String(v) : JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
