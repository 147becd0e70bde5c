/**
 * Runs one generated case (property-model.ts) against real Postgres through
 * the reconciler's library API and checks it against the generator's own
 * knowledge: which keys it deleted, added, changed (and in which columns) or
 * duplicated, and only those inside the window. Equal rows are written in other
 * physical forms per side (types, scale, layout, column order, database,
 * server encoding), so any false alarm shows as an unexpected difference.
 */
import pg from 'pg';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../src/core/runtime.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { parseWindow } from '../../src/core/windows.ts';
import { reconcileWindows } from '../../reconcile/reconcile-dataset.ts';
import type { WindowResult } from '../../reconcile/types.ts';
import { KINDS, caseTypesSql, keyTextOf, type Case, type ColumnSpec, type Ctx } from './property-model.ts';

export interface PropertyEnv {
  rt: Runtime;
  /** The toolkit database (same-database cases), a second UTF8 database, a LATIN1 one. */
  main: { url: string; pool: Pool };
  other: { url: string; pool: Pool };
  latin1: { url: string; pool: Pool };
  close(): Promise<void>;
}

const dbName = (prefix: string) => `${prefix}_${Math.random().toString(16).slice(2, 12)}`;

/** Three databases on one server (reused by every case: each case lives in its own schema). */
export async function propertyEnv(serverUrl: string): Promise<PropertyEnv> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const names = [dbName('props'), dbName('propsx'), dbName('propsl1')];
  await admin.query(`CREATE DATABASE "${names[0]}"`);
  await admin.query(`CREATE DATABASE "${names[1]}"`);
  await admin.query(`CREATE DATABASE "${names[2]}" WITH ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
  await admin.end();
  const at = (name: string) => { const u = new URL(serverUrl); u.pathname = `/${name}`; const url = u.toString(); return { url, pool: createPool(url, { max: 6 }) }; };
  const [main, other, latin1] = names.map(at);
  const config = compileConfig({ database: { url: main.url, poolSize: 8 }, datasets: {} }, { path: null });
  const rt = createRuntime({ config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  await rt.db();
  // The case types (domains, enums, composites) once per database, shared by every case.
  await Promise.all([main, other, latin1].map((d) => d.pool.query(`CREATE SCHEMA ${TYPES}; ${caseTypesSql(TYPES)}`)));
  return {
    rt, main, other, latin1,
    async close() {
      await rt.close();
      await Promise.all([main.pool.end(), other.pool.end(), latin1.pool.end()]);
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      for (const n of names) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
      await c.end();
    },
  };
}

const TYPES = 'ptypes';
const typeSql = (t: string) => t.replace(/\$S\./g, `${TYPES}.`);

function tableSql(schema: string, table: string, cols: ColumnSpec[], side: 'batch' | 'stream', keys: ColumnSpec[], pk: boolean, drift: boolean): string {
  const defs = cols.map((c) => `"${c.name}" ${typeSql(side === 'batch' ? c.batchType : c.streamType)}${keys.includes(c) ? ' NOT NULL' : ''}`);
  if (drift) defs.push('zdrift int');
  if (pk) defs.push(`PRIMARY KEY (${keys.map((k) => `"${k.name}"`).join(', ')})`);
  return `CREATE TABLE ${schema}.${table} (${defs.join(', ')})`;
}

function insertSql(schema: string, table: string, cols: ColumnSpec[], order: number[], side: 'batch' | 'stream', rows: unknown[][], ctx: Ctx): string | null {
  if (rows.length === 0) return null;
  const ordered = order.map((i) => cols[i]);
  const values = rows.map((r) => `(${order.map((i) => {
    const c = cols[i];
    return KINDS[c.kind].lit(r[i], typeSql(side === 'batch' ? c.batchType : c.streamType), ctx);
  }).join(', ')})`);
  return `INSERT INTO ${schema}.${table} (${ordered.map((c) => `"${c.name}"`).join(', ')}) VALUES ${values.join(', ')}`;
}

/** What the stream side holds: the batch rows in other physical forms, with the seeded differences. */
function streamRows(c: Case): unknown[][] {
  const all = [...c.key, ...c.columns, ...(c.window ? [c.window.column] : [])];
  const variant = (r: unknown[]) => r.map((v, i) => (KINDS[all[i].kind].variant ? KINDS[all[i].kind].variant!(v) : v));
  const out: unknown[][] = [];
  c.rows.forEach((r, i) => {
    const m = c.mutations.find((x) => x.op !== 'add' && x.row === i);
    if (m?.op === 'delete') return;
    let row = variant(r);
    if (m?.op === 'change') row = row.map((v, j) => (m.columns.includes(all[j].name) ? KINDS[all[j].kind].mutate(v) : v));
    out.push(row);
    if (m?.op === 'duplicate') out.push(row);
  });
  for (const m of c.mutations) if (m.op === 'add') out.push(c.extra[m.row]);
  return out;
}

/** The differences the generator seeded, inside the window, as `kind key [columns]`. */
export function expectedDifferences(c: Case): string[] {
  const inWindow = (r: unknown[]) => !c.window || (r[r.length - 1] as { day: string }).day === c.window.day;
  const out: string[] = [];
  for (const m of c.mutations) {
    const r = m.op === 'add' ? c.extra[m.row] : c.rows[m.row];
    if (!inWindow(r)) continue;
    const key = keyTextOf(c.key, r);
    if (m.op === 'delete') out.push(`missing_in_stream ${key}`);
    if (m.op === 'add') out.push(`missing_in_batch ${key}`);
    if (m.op === 'duplicate') out.push(`duplicate_key ${key}`);
    if (m.op === 'change') out.push(`changed ${key} ${m.columns.join(',')}`);
  }
  return out.sort();
}

/** The differences the reconciler found, in the same form (numbers in keys by value). */
export function foundDifferences(c: Case, r: WindowResult): string[] {
  return [...(r.diff?.samples ?? []), ...(r.diff?.inFlightSamples ?? [])].map((s) => {
    const key = JSON.stringify(c.key.map((k) => {
      const v = s.key[k.name];
      return ['int', 'bigint', 'dec'].includes(k.kind) ? String(Number(v)) : String(v);
    }));
    return `${s.kind} ${key}${s.columns ? ` ${Object.keys(s.columns).sort().join(',')}` : ''}`;
  }).sort();
}

let seq = 0;

/** Builds the case's tables, reconciles, drops them; throws with the details when the verdict or differences are wrong. */
export async function checkCase(env: PropertyEnv, c: Case): Promise<void> {
  const schema = `p${process.pid}_${++seq}`;
  // A whole-table dataset has no window zone: its wall clocks are UTC (the documented default).
  const ctx: Ctx = { schema, zone: c.window ? c.zone : 'UTC' };
  const all = [...c.key, ...c.columns, ...(c.window ? [c.window.column] : [])];
  const batchDb = c.strategy === 'cross-database' ? env.other : c.strategy === 'latin1' ? env.latin1 : env.main;
  const identity = all.map((_, i) => i);
  const setup = async (pool: Pool, sqls: (string | null)[]) => { await pool.query(sqls.filter(Boolean).join(';\n')); };
  try {
    await setup(batchDb.pool, [
      `CREATE SCHEMA ${schema}`,
      tableSql(schema, 'b', all, 'batch', c.key, true, c.drift === 'batch'),
      insertSql(schema, 'b', all, identity, 'batch', c.rows, ctx),
    ]);
    const order = c.streamColumnOrder;
    await setup(env.main.pool, [
      ...(batchDb === env.main ? [] : [`CREATE SCHEMA ${schema}`]),
      tableSql(schema, 's', order.map((i) => all[i]), 'stream', c.key, !c.streamNoPk, c.drift === 'stream'),
      insertSql(schema, 's', all, order, 'stream', streamRows(c), ctx),
    ]);
    const config = compileConfig({
      database: { url: env.main.url },
      datasets: {
        p: {
          key: c.key.map((k) => k.name),
          ...(c.window ? { window: { column: 'w', grain: 'day', timezone: c.zone } } : {}),
          batch: { output: `${schema}.b`, ...(batchDb === env.main ? {} : { database: batchDb.url }) },
          stream: { output: `${schema}.s`, source: { topic: 'props.topic', format: 'json' } },
        },
      },
    }, { path: null });
    const ds = config.datasets.p;
    const window = c.window ? parseWindow(c.window.day, 'day', c.zone) : null;
    const [r] = await reconcileWindows(env.rt, ds, [window], { assumeSettled: true, store: false, samples: 1000, buckets: c.buckets });
    judge(c, r);
  } finally {
    await batchDb.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    if (batchDb !== env.main) await env.main.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

function judge(c: Case, r: WindowResult): void {
  const expected = expectedDifferences(c);
  const found = foundDifferences(c, r);
  const drift = c.drift ? 1 : 0;
  const verdict = expected.length > 0 || drift ? 'mismatch' : 'match';
  const problems: string[] = [];
  if (r.verdict !== verdict) problems.push(`verdict ${r.verdict}, expected ${verdict}`);
  if (JSON.stringify(found) !== JSON.stringify(expected)) problems.push(`differences ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`);
  if ((r.schemaDrift?.length ?? 0) !== drift) problems.push(`schemaDrift ${JSON.stringify(r.schemaDrift)}, expected ${drift} entry`);
  const d = r.diff;
  if (d && d.missingInStream + d.missingInBatch + d.changed + d.duplicateKeys + d.inFlight !== expected.length) problems.push(`counts ${JSON.stringify(d)}`);
  if (problems.length > 0) {
    throw new Error(`${problems.join('; ')}\nresult: ${JSON.stringify({ verdict: r.verdict, error: r.error, strategy: r.strategy, batch: r.batch, stream: r.stream, samples: r.diff?.samples })}`);
  }
}
