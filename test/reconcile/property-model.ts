/**
 * Generated reconciler cases (fast-check): a table shape (key single or
 * composite, columns from a broad type list), rows, a physical type per side
 * for each column chosen among types that must compare equal, and seeded
 * differences the generator knows exactly (its own oracle: which keys it
 * deleted, added, changed and in which columns, or duplicated).
 *
 * Values are logical (plain data); each kind writes them as a SQL expression of
 * the batch side's physical type, and copies a batch value into the stream
 * side's type with Postgres's own casts (never with the reconciler's code).
 */
import fc from 'fast-check';

export interface Ctx { schema: string; zone: string }

export interface Kind {
  name: string;
  /** Physical types that hold the kind's values equally (`$S` = the case's schema). */
  types: string[];
  value: fc.Arbitrary<unknown>;
  /** A SQL expression of type `type` for value v. */
  lit(v: unknown, type: string, ctx: Ctx): string;
  /** A value that differs from v under the equality rules. */
  mutate(v: unknown): unknown;
  /** The same value in another physical form (trailing zeros, -0, json layout). */
  variant?(v: unknown): unknown;
  /** Makes v storable in both types (json that jsonb cannot hold only between two json columns). */
  sanitize?(v: unknown, batchType: string, streamType: string): unknown;
  /** Normalised key text of v as the reconciler reports it (keys only). */
  keyText?(v: unknown): string;
  /** Can be a window column. */
  windowable?: boolean;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const cast = (expr: string, to: string) => `(${expr})::${to}`;
/** LATIN1-representable characters, record/array delimiters, quotes, backslash, space, a word that looks like NULL. */
const CHARS = ['a', 'b', 'Z', '0', ' ', ',', '(', ')', '"', '\\', '|', '{', '}', "'", 'é', 'ß', 'ü', 'Å', 'NULL', '\\N', '\t'];
const textValue = (max: number) => fc.array(fc.constantFrom(...CHARS), { maxLength: max }).map((a) => a.join(''));
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { freq: 6, nil: null });
const orNull = (v: unknown, f: () => string, type: string) => (v === null ? `NULL::${type}` : f());

// Days with DST changes in the zones below, and ordinary days; wall clocks between 04:00 and 22:59, never skipped or repeated.
export const DAYS = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01', '2026-11-20'];
export const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Sao_Paulo'];
export function shiftDay(day: string, by: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + by);
  return d.toISOString().slice(0, 10);
}
const wallClock = (v: { day: string; sec: number }) => {
  const s = 4 * 3600 + v.sec;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${v.day} ${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
};

/** Valid json escapes jsonb cannot hold. */
const UNFIT = ['\\u0000', '\\ud800'];

const int = (name: string, types: string[], min: number, max: number): Kind => ({
  name, types,
  value: fc.integer({ min, max }),
  lit: (v, type) => orNull(v, () => cast(String(v), type), type),
  mutate: (v) => (v === null ? 0 : (v as number) + 1),
  keyText: (v) => String(Number(v)),
});

export const KINDS: Record<string, Kind> = {
  int: int('int', ['int2', 'int4', 'int8', 'numeric', 'numeric(12,0)', '$S.dint'], -32000, 32000),
  bigint: {
    name: 'bigint', types: ['int8', 'numeric'],
    value: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map(String),
    lit: (v, type) => orNull(v, () => cast(q(v as string), type), type),
    mutate: (v) => (v === null ? '1' : String(BigInt(v as string) + 1n)),
    keyText: (v) => String(Number(v)),
  },
  dec: {
    name: 'dec', types: ['numeric(12,2)', 'numeric(14,4)', 'numeric', '$S.dnum2'],
    // cents, written with 0..2 extra trailing zeros
    value: fc.tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 2 })),
    lit: (v, type) => orNull(v, () => {
      const [c, z] = v as [number, number];
      const a = Math.abs(c);
      return cast(q(`${c < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}${'0'.repeat(z)}`), type);
    }, type),
    mutate: (v) => (v === null ? [0, 0] : [(v as [number, number])[0] + 1, 0]),
    variant: (v) => (v === null ? v : [(v as [number, number])[0], ((v as [number, number])[1] + 1) % 3]),
    keyText: (v) => { const c = (v as [number, number])[0]; return String(c / 100); },
  },
  float: {
    name: 'float', types: ['float4', 'float8', 'float8'],
    // k/8 is exact in float4 and float8; -0, NaN, infinities too
    value: fc.oneof(fc.integer({ min: -100_000, max: 100_000 }).map((k) => String(k / 8)), fc.constantFrom('-0', 'NaN', 'Infinity', '-Infinity', '0')),
    lit: (v, type) => orNull(v, () => cast(q(v as string), type), type),
    mutate: (v) => (v === null || !Number.isFinite(Number(v)) ? '1.5' : String(Number(v) + 0.5)),
    variant: (v) => (v === '0' ? '-0' : v === '-0' ? '0' : v),
  },
  floatnum: {
    name: 'floatnum', types: ['float8', 'numeric', 'int8'],
    value: fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
    lit: (v, type) => orNull(v, () => cast(q(v as string), type), type),
    mutate: (v) => (v === null ? '1' : String(Number(v) + 1)),
  },
  text: {
    name: 'text', types: ['text', 'varchar', 'varchar(60)', '$S.dtext'],
    value: textValue(8),
    lit: (v, type) => orNull(v, () => cast(q(v as string), type), type),
    mutate: (v) => (v === null ? '' : `${v as string}x`),
    keyText: (v) => v as string,
  },
  char: {
    name: 'char', types: ['char(9)', 'text', 'varchar(9)'],
    // char(n) vs text: Postgres drops char's trailing blanks; values without trailing blanks are equal
    value: fc.array(fc.constantFrom(...CHARS.filter((c) => c.length === 1)), { maxLength: 7 }).map((a) => a.join('').replace(/ +$/, '')),
    lit: (v, type) => orNull(v, () => cast(q(v as string), type), type),
    mutate: (v) => (v === null ? 'm' : `${v as string}x`),
  },
  uuid: {
    name: 'uuid', types: ['uuid', 'text'],
    value: fc.uuid(),
    lit: (v, type) => orNull(v, () => cast(q(v as string), type), type),
    mutate: (v) => (v === null ? '00000000-0000-4000-8000-000000000000' : `${(v as string).slice(0, 35)}${(v as string).endsWith('0') ? '1' : '0'}`),
    keyText: (v) => v as string,
  },
  bool: {
    name: 'bool', types: ['bool'], value: fc.boolean(),
    lit: (v, type) => orNull(v, () => `${v}::${type}`, type), mutate: (v) => !(v as boolean),
  },
  date: {
    name: 'date', types: ['date'], windowable: true,
    value: fc.record({ day: fc.constantFrom(...DAYS), sec: fc.constant(0) }),
    lit: (v, type) => orNull(v, () => `${q((v as { day: string }).day)}::${type}`, type),
    mutate: (v) => ({ day: v === null ? DAYS[0] : shiftDay((v as { day: string }).day, 1), sec: 0 }),
  },
  ts: {
    name: 'ts', types: ['timestamptz', 'timestamp', 'timestamptz'], windowable: true,
    value: fc.record({ day: fc.constantFrom(...DAYS), sec: fc.integer({ min: 0, max: 19 * 3600 - 1 }) }),
    // a wall clock in the dataset zone: as such for timestamp, as the instant Postgres makes of it for timestamptz
    lit: (v, type, ctx) => orNull(v, () => (type === 'timestamp'
      ? `${q(wallClock(v as { day: string; sec: number }))}::timestamp`
      : `(${q(wallClock(v as { day: string; sec: number }))}::timestamp AT TIME ZONE ${q(ctx.zone)})`), type),
    mutate: (v) => (v === null ? { day: DAYS[0], sec: 0 } : { ...(v as object), sec: ((v as { sec: number }).sec + 1) % (19 * 3600) }),
  },
  json: {
    name: 'json', types: ['json', 'jsonb', 'json'],
    value: fc.record({ a: fc.integer({ min: -5, max: 5 }), b: fc.constantFrom('x', 'y z', 'é', '\\u00e9', '\\u0000', '\\ud800', 'q\\"'), ws: fc.boolean() }),
    lit: (v, type) => orNull(v, () => {
      const x = v as { a: number; b: string; ws: boolean };
      const text = x.ws ? `{ "b" : "${x.b}",\n  "a": ${x.a} }` : `{"a":${x.a},"b":"${x.b}"}`;
      return `${q(text)}::${type}`;
    }, type),
    mutate: (v) => (v === null ? { a: 9, b: 'x', ws: false } : { ...(v as object), a: (v as { a: number }).a + 10 }),
    // key order and whitespace are layout, not value (jsonb semantics); a value holding \u0000 keeps its text
    variant: (v) => (v === null || UNFIT.includes((v as { b: string }).b) ? v : { ...(v as object), ws: !(v as { ws: boolean }).ws }),
    sanitize: (v, b, s) => (v !== null && (b === 'jsonb' || s === 'jsonb') && UNFIT.includes((v as { b: string }).b) ? { ...(v as object), b: 'x' } : v),
  },
  bytea: {
    name: 'bytea', types: ['bytea'],
    value: fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a).toString('hex')),
    lit: (v, type) => orNull(v, () => `${q(`\\x${v as string}`)}::${type}`, type),
    mutate: (v) => `${(v as string | null) ?? ''}ff`,
  },
  interval: {
    name: 'interval', types: ['interval'],
    value: fc.constantFrom('1 day', '24 hours', '1 mon', '30 days', '00:00:01.5', '-1 day +2 hours'),
    lit: (v, type) => orNull(v, () => `${q(v as string)}::${type}`, type),
    mutate: (v) => (v === '1 day' ? '1 day 1 second' : '1 day'),
  },
  enum: {
    name: 'enum', types: ['$S.mood_b', '$S.mood_s', 'text'],
    value: fc.constantFrom('sad', 'ok', 'happy', 'a b'),
    lit: (v, type) => orNull(v, () => `${q(v as string)}::${type}`, type),
    mutate: (v) => (v === 'ok' ? 'sad' : 'ok'),
  },
  intarr: {
    name: 'intarr', types: ['int4[]', 'int8[]', 'numeric[]', '$S.dint[]'],
    value: fc.array(nullable(fc.integer({ min: -1000, max: 1000 })), { maxLength: 3 }),
    lit: (v, type) => orNull(v, () => `ARRAY[${(v as (number | null)[]).map((x) => (x === null ? 'NULL' : String(x))).join(',')}]::${type}`, type),
    mutate: (v) => [...((v as number[] | null) ?? []), 7],
  },
  decarr: {
    name: 'decarr', types: ['numeric(10,2)[]', 'numeric[]', '$S.dnum2[]'],
    value: fc.array(nullable(fc.integer({ min: -100000, max: 100000 })), { maxLength: 3 }),
    lit: (v, type) => orNull(v, () => `ARRAY[${(v as (number | null)[]).map((x) => (x === null ? 'NULL' : `${(x / 100).toFixed(2)}0`)).join(',')}]::${type}`, type),
    mutate: (v) => [...((v as number[] | null) ?? []), 1],
  },
  textarr: {
    name: 'textarr', types: ['text[]', 'varchar[]'],
    value: fc.array(nullable(textValue(4)), { maxLength: 3 }),
    lit: (v, type) => orNull(v, () => `ARRAY[${(v as (string | null)[]).map((x) => (x === null ? 'NULL' : q(x))).join(',')}]::text[]::${type}`, type),
    mutate: (v) => [...((v as string[] | null) ?? []), 'm'],
  },
  chararr: {
    name: 'chararr', types: ['char(5)[]', 'text[]', 'varchar(5)[]'],
    value: fc.array(nullable(fc.array(fc.constantFrom('a', 'b', ' ', ',', '"', 'é'), { maxLength: 4 }).map((a) => a.join('').replace(/ +$/, ''))), { maxLength: 3 }),
    lit: (v, type) => orNull(v, () => `ARRAY[${(v as (string | null)[]).map((x) => (x === null ? 'NULL' : q(x))).join(',')}]::text[]::${type}`, type),
    mutate: (v) => [...((v as string[] | null) ?? []), 'm'],
  },
  comp: {
    name: 'comp', types: ['$S.line_b', '$S.line_s'],
    value: fc.record({ c: nullable(fc.integer({ min: -100000, max: 100000 })), t: nullable(fc.record({ day: fc.constantFrom(...DAYS), sec: fc.integer({ min: 0, max: 19 * 3600 - 1 }) })), n: nullable(textValue(4)) }),
    lit: (v, type, ctx) => orNull(v, () => {
      const x = v as { c: number | null; t: { day: string; sec: number } | null; n: string | null };
      const t = x.t === null ? 'NULL' : `(${q(wallClock(x.t))}::timestamp AT TIME ZONE ${q(ctx.zone)})`;
      return `ROW(${x.c === null ? 'NULL' : `${(x.c / 100).toFixed(2)}00`}, ${t}, ${x.n === null ? 'NULL' : q(x.n)})::${type}`;
    }, type),
    mutate: (v) => (v === null ? { c: 1, t: null, n: null } : { ...(v as object), c: ((v as { c: number | null }).c ?? 0) + 1 }),
  },
};

/** Types created in each case's schema (the `$S.` types above). */
export function caseTypesSql(schema: string): string {
  return `CREATE DOMAIN ${schema}.dnum AS numeric(12,2);
CREATE DOMAIN ${schema}.dnum2 AS ${schema}.dnum CHECK (VALUE > -1e11);
CREATE DOMAIN ${schema}.dint AS int4;
CREATE DOMAIN ${schema}.dtext AS text;
CREATE TYPE ${schema}.mood_b AS ENUM ('sad', 'ok', 'happy', 'a b');
CREATE TYPE ${schema}.mood_s AS ENUM ('happy', 'a b', 'ok', 'sad');
CREATE TYPE ${schema}.line_b AS (qty numeric(10,2), at timestamptz, note text);
CREATE TYPE ${schema}.line_s AS (qty numeric, at timestamptz, note varchar);`;
}

export const KEY_KINDS = ['int', 'bigint', 'dec', 'text', 'uuid'] as const;
const VALUE_KINDS = Object.keys(KINDS);

export interface ColumnSpec { name: string; kind: string; batchType: string; streamType: string }
export interface Mutation { op: 'delete' | 'add' | 'change' | 'duplicate'; row: number; columns: string[] }

export interface Case {
  zone: string;
  key: ColumnSpec[];
  columns: ColumnSpec[];
  /** The window column (kind ts or date) and the middle day of three, or null for a whole table. */
  window: { column: ColumnSpec; day: string } | null;
  /** rows[i][c] for key columns then value columns then the window column. */
  rows: unknown[][];
  /** Rows only in the stream (for `add`). */
  extra: unknown[][];
  mutations: Mutation[];
  /** The stream table's column order (indexes into key + columns + window). */
  streamColumnOrder: number[];
  strategy: 'same-database' | 'cross-database' | 'latin1';
  /** Extra column on one side only: schema drift. */
  drift: 'batch' | 'stream' | null;
  /** Stream table without a primary key (so duplicates can exist). */
  streamNoPk: boolean;
  buckets: number | undefined;
}

const pair = (kind: Kind) => fc.tuple(fc.constantFrom(...kind.types), fc.constantFrom(...kind.types));

function columnArb(name: string, kindNames: readonly string[]): fc.Arbitrary<ColumnSpec> {
  return fc.constantFrom(...kindNames).chain((k) => pair(KINDS[k]).map(([b, s]) => ({ name, kind: k, batchType: b, streamType: s })));
}

/** A key as the reconciler reports it, normalised (numbers by value): equal keys, equal text. */
export function keyTextOf(key: ColumnSpec[], row: readonly unknown[]): string {
  return JSON.stringify(key.map((c, i) => KINDS[c.kind].keyText!(row[i])));
}

/** Key and window values are never NULL; the others sometimes are. */
function rowArb(cols: ColumnSpec[], notNull: number, windowed: boolean): fc.Arbitrary<unknown[]> {
  return fc.tuple(...cols.map((c, i) => {
    const v = i < notNull || (windowed && i === cols.length - 1) ? KINDS[c.kind].value : nullable(KINDS[c.kind].value);
    const fix = KINDS[c.kind].sanitize;
    return fix ? v.map((x) => fix(x, c.batchType, c.streamType)) : v;
  }));
}

export const caseArb: fc.Arbitrary<Case> = fc.record({
  zone: fc.constantFrom(...ZONES),
  keyCount: fc.integer({ min: 1, max: 2 }),
  colCount: fc.integer({ min: 0, max: 6 }),
  windowed: fc.boolean(),
  strategy: fc.constantFrom('same-database', 'same-database', 'cross-database', 'latin1'),
  drift: fc.constantFrom(null, null, null, null, null, null, null, null, 'batch', 'stream'),
  streamNoPk: fc.boolean(),
  buckets: fc.constantFrom(undefined, 1, 3, 7),
  windowDay: fc.constantFrom(...DAYS),
}).chain((s) => {
  const keyArb = fc.tuple(...Array.from({ length: s.keyCount }, (_, i) => columnArb(`k${i}`, KEY_KINDS)));
  const colsArb = fc.tuple(...Array.from({ length: s.colCount }, (_, i) => columnArb(`c${i}`, VALUE_KINDS)));
  const winArb = s.windowed ? columnArb('w', ['ts', 'ts', 'date']).map((c) => [c]) : fc.constant([] as ColumnSpec[]);
  return fc.tuple(keyArb, colsArb, winArb).chain(([key, columns, win]) => {
    const all = [...key, ...columns, ...win];
    const row = rowArb(all, key.length, win.length > 0);
    return fc.record({
      rows: fc.uniqueArray(row, { minLength: 1, maxLength: 14, selector: (r) => keyTextOf(key, r) }),
      extra: fc.array(row, { maxLength: 2 }),
      dayShift: fc.array(fc.constantFrom(-1, 0, 0, 0, 1), { minLength: 16, maxLength: 16 }),
      muts: fc.array(fc.record({ op: fc.constantFrom('delete', 'add', 'change', 'change', 'duplicate'), row: fc.nat(), cols: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) }), { maxLength: 4 }),
      order: fc.shuffledSubarray(all.map((_, i) => i), { minLength: all.length, maxLength: all.length }),
    }).map(({ rows, extra, dayShift, muts, order }): Case => {
      // window values on the window's day or a neighbour, so some rows fall outside the window
      const place = (r: unknown[], i: number) => {
        if (win.length === 0) return r;
        const out = [...r];
        out[out.length - 1] = { ...(out[out.length - 1] as object), day: shiftDay(s.windowDay, dayShift[i % dayShift.length]) };
        return out;
      };
      const baseRows = rows.map(place);
      const keys = new Set(baseRows.map((r) => keyTextOf(key, r)));
      const extraRows = extra.map((r, i) => place(r, i + 7)).filter((r) => !keys.has(keyTextOf(key, r)));
      if (extraRows.length === 2 && keyTextOf(key, extraRows[0]) === keyTextOf(key, extraRows[1])) extraRows.pop();
      const used = new Set<number>();
      const mutations: Mutation[] = [];
      let added = 0;
      for (const m of muts) {
        if (m.op === 'add') { if (added < extraRows.length) mutations.push({ op: 'add', row: added++, columns: [] }); continue; }
        const r = m.row % baseRows.length;
        if (used.has(r) || (m.op === 'duplicate' && !s.streamNoPk) || (m.op === 'change' && columns.length === 0)) continue;
        const cols = m.op === 'change' ? [...new Set(m.cols.map((c) => columns[c % columns.length].name))].sort() : [];
        mutations.push({ op: m.op as Mutation['op'], row: r, columns: cols });
        used.add(r);
      }
      return {
        zone: s.zone, key, columns, window: win.length ? { column: win[0], day: s.windowDay } : null,
        rows: baseRows, extra: extraRows, mutations, streamColumnOrder: order,
        strategy: s.strategy as Case['strategy'], drift: s.drift as Case['drift'], streamNoPk: s.streamNoPk, buckets: s.buckets,
      };
    });
  });
});
