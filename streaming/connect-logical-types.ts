/**
 * Kafka Connect / Debezium logical types, read from the `schema` that Connect's
 * JsonConverter sends beside each `payload` (schemas.enable=true, its default).
 * Without them a value's JSON says too little: a `decimal.handling.mode=precise`
 * numeric arrives as base64 bytes (`"MDk="`), a timestamp as microseconds since
 * 1970, a date as days. With the schema each such field is turned into the text
 * Postgres reads for the column (`123.45`, `2026-11-04T09:30:00.000001`,
 * `2026-11-04`, `\x…`), exactly: integer arithmetic only, no double in between.
 *
 * What cannot be turned into its value is refused (a `decode` dead letter naming
 * the field), never written as something else: Debezium's `MicroDuration` (months
 * approximated as 30.4375 days), and its ±infinity timestamps (Long.MAX/MIN_VALUE,
 * which would otherwise become real dates in the year 294247).
 * Without a schema (bare JSON) nothing is converted: docs/streaming.md says which
 * connector settings send values in forms Postgres reads directly.
 */
// A 64-bit integer as a JSON number or its digits (a value beyond 2^53 arrives as text): parseVersion reads exactly that.
import { parseVersion, type JsonRow } from './change-event.ts';

type Converted = { ok: true; value: unknown } | { ok: false; reason: string };
type Convert = (v: unknown) => Converted;

/** Per field of a row, how to turn its JSON value into the value written. */
export type RowConverters = ReadonlyMap<string, Convert>;

const US_PER_DAY = 86_400_000_000n;
const LONG_MAX = 9_223_372_036_854_775_807n;
const LONG_MIN = -9_223_372_036_854_775_808n;

/** Converters for a Connect struct schema's fields; null when no field needs one. */
export function rowConverters(schema: unknown): RowConverters | null {
  if (!isSchema(schema) || !Array.isArray(schema.fields)) return null;
  const out = new Map<string, Convert>();
  for (const f of schema.fields) {
    if (!isSchema(f) || typeof f.field !== 'string') continue;
    const c = fieldConverter(f);
    if (c) out.set(f.field, c);
  }
  return out.size === 0 ? null : out;
}

/** The struct schema of one field of an envelope schema (`before`, `after`), or undefined. */
export function fieldSchema(schema: unknown, field: string): unknown {
  if (!isSchema(schema) || !Array.isArray(schema.fields)) return undefined;
  return schema.fields.find((f) => isSchema(f) && f.field === field);
}

/** The row with its logical-type fields converted (a new object), or the first field that cannot be. */
export function convertRow(row: JsonRow, converters: RowConverters): { ok: true; row: JsonRow } | { ok: false; reason: string } {
  const out: JsonRow = { ...row };
  for (const [name, convert] of converters) {
    const v = row[name];
    if (v === undefined || v === null) continue;
    const r = convert(v);
    if (!r.ok) return { ok: false, reason: `field ${name}: ${r.reason}` };
    out[name] = r.value;
  }
  return { ok: true, row: out };
}

interface Schema { type?: unknown; name?: unknown; field?: unknown; fields?: unknown[]; items?: unknown; parameters?: Record<string, unknown> }

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldConverter(s: Schema): Convert | null {
  if (s.type === 'array') {
    const item = isSchema(s.items) ? fieldConverter(s.items) : null;
    return item && arrayOf(item);
  }
  switch (s.name) {
    case 'org.apache.kafka.connect.data.Decimal': return decimalOf(Number(s.parameters?.scale ?? 0));
    case 'io.debezium.data.VariableScaleDecimal': return variableScaleDecimal;
    case 'io.debezium.time.Date': case 'org.apache.kafka.connect.data.Date': return dateFromDays;
    case 'io.debezium.time.Timestamp': case 'org.apache.kafka.connect.data.Timestamp': return timestampOf(1000n, 1n);
    case 'io.debezium.time.MicroTimestamp': return timestampOf(1n, 1n);
    case 'io.debezium.time.NanoTimestamp': return timestampOf(1n, 1000n);
    case 'io.debezium.time.Time': case 'org.apache.kafka.connect.data.Time': return timeOf(1000n, 1n);
    case 'io.debezium.time.MicroTime': return timeOf(1n, 1n);
    case 'io.debezium.time.NanoTime': return timeOf(1n, 1000n);
    case 'io.debezium.time.MicroDuration':
      return () => refuse('an interval as microseconds (Debezium interval.handling.mode=numeric counts a month as 30.4375 days); set interval.handling.mode=string');
    // Its base64 would reach a bit column as text, read as bits when every character is 0 or 1 (`0000`: 4 bits for 24).
    case 'io.debezium.data.Bits':
      return () => refuse('io.debezium.data.Bits (a bit string sent as bytes) is not converted: its base64 text could be read as other bits; map the column to text in the source (e.g. a cast in a view) or send it as a 0/1 string');
    case undefined: return s.type === 'bytes' ? bytesAsHex : null;
    default: return null;
  }
}

function refuse(reason: string): Converted {
  return { ok: false, reason };
}

function arrayOf(item: Convert): Convert {
  return (v) => {
    if (!Array.isArray(v)) return refuse(`expected a JSON array, got ${JSON.stringify(v)}`);
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) {
      if (v[i] === null) { out.push(null); continue; }
      const r = item(v[i]);
      if (!r.ok) return refuse(`element ${i}: ${r.reason}`);
      out.push(r.value);
    }
    return { ok: true, value: out };
  };
}

/** Connect's Decimal: the unscaled value as big-endian two's complement bytes, base64. */
function decimalOf(scale: number): Convert {
  if (!Number.isInteger(scale)) return () => refuse('a Decimal schema without an integer scale parameter');
  return (v) => {
    const unscaled = typeof v === 'string' ? twosComplement(v) : null;
    return unscaled === null ? refuse(`expected base64 bytes of a Decimal, got ${JSON.stringify(v)}`) : { ok: true, value: decimalText(unscaled, scale) };
  };
}

/** Debezium's VariableScaleDecimal: `{scale, value}` with `value` as for Decimal. */
function variableScaleDecimal(v: unknown): Converted {
  const o = v as { scale?: unknown; value?: unknown } | null;
  const scale = typeof o === 'object' && o !== null ? parseVersion(o.scale) : null;
  if (scale === null || typeof o?.value !== 'string') return refuse(`expected {"scale", "value"} of a VariableScaleDecimal, got ${JSON.stringify(v)}`);
  return decimalOf(Number(scale))(o.value);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 bytes as a signed big-endian integer; null when not base64 or empty. */
export function twosComplement(b64: string): bigint | null {
  if (!BASE64.test(b64)) return null;
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) return null;
  const unsigned = BigInt(`0x${bytes.toString('hex')}`);
  return bytes[0] & 0x80 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}

/** unscaled × 10^-scale as plain decimal text (`-0.05`, `1200` for scale −2). */
export function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return `${neg ? '-' : ''}${digits}${unscaled === 0n ? '' : '0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

function bytesAsHex(v: unknown): Converted {
  if (typeof v !== 'string' || !BASE64.test(v)) return refuse(`expected base64 bytes, got ${JSON.stringify(v)}`);
  return { ok: true, value: `\\x${Buffer.from(v, 'base64').toString('hex')}` };
}

function dateFromDays(v: unknown): Converted {
  const days = parseVersion(v);
  return days === null ? refuse(`expected days since 1970-01-01, got ${JSON.stringify(v)}`) : { ok: true, value: civilDate(days) };
}

/** `unit`: microseconds per given unit (ms: 1000); `per`: given units per microsecond (ns: 1000). */
function timestampOf(unit: bigint, per: bigint): Convert {
  return (v) => {
    const n = parseVersion(v);
    if (n === null) return refuse(`expected an integer time since 1970-01-01, got ${JSON.stringify(v)}`);
    if (n === LONG_MAX || n === LONG_MIN) return refuse(`${n} is how Debezium sends ±infinity, which this column cannot be given as a time`);
    const sub = per === 1n ? 0n : floorMod(n, per);
    const us = floorDiv(n, per) * unit;
    const day = floorDiv(us, US_PER_DAY);
    const [date, bc] = civilParts(day);
    return { ok: true, value: `${date}T${clock(us - day * US_PER_DAY, sub, per)}${bc}` };
  };
}

function timeOf(unit: bigint, per: bigint): Convert {
  return (v) => {
    const n = parseVersion(v);
    if (n === null || n < 0n || n * unit > US_PER_DAY * per) return refuse(`expected a time since midnight (0 to 24:00:00), got ${JSON.stringify(v)}`);
    return { ok: true, value: clock((n / per) * unit, n % per, per) };
  };
}

/** HH:MM:SS[.ffffff[fff]] of microseconds into a day (24:00:00 included), plus `sub` of `per`. */
function clock(us: bigint, sub: bigint, per: bigint): string {
  const two = (x: bigint) => x.toString().padStart(2, '0');
  const s = us / 1_000_000n;
  let frac = (us % 1_000_000n).toString().padStart(6, '0');
  // A sub-microsecond part is kept (9 digits), so the column's check refuses it instead of rounding.
  if (sub !== 0n) frac += sub.toString().padStart(per.toString().length - 1, '0');
  frac = frac.replace(/0+$/, '');
  return `${two(s / 3600n)}:${two((s / 60n) % 60n)}:${two(s % 60n)}${frac ? `.${frac}` : ''}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

function floorMod(a: bigint, b: bigint): bigint {
  return a - floorDiv(a, b) * b;
}

/** Days since 1970-01-01 as Postgres date text (proleptic Gregorian, `YYYY-MM-DD[ BC]`). */
export function civilDate(days: bigint): string {
  const [date, bc] = civilParts(days);
  return `${date}${bc}`;
}

/** H. Hinnant's civil_from_days, on bigints; year 0 is 1 BC. */
function civilParts(days: bigint): [string, string] {
  const z = days + 719_468n;
  const era = floorDiv(z, 146_097n);
  const doe = z - era * 146_097n;
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  const y = yoe + era * 400n + (m <= 2n ? 1n : 0n);
  const year = y > 0n ? y : 1n - y;
  const two = (x: bigint) => x.toString().padStart(2, '0');
  return [`${year.toString().padStart(4, '0')}-${two(m)}-${two(d)}`, y > 0n ? '' : ' BC'];
}
