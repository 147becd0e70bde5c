/**
 * Differential probe: the reconciler against reladiff 0.6 on the cases of
 * test/reconcile/peer-cases.ts, in one database, across two (the batch side's
 * database in another TimeZone) and from a LATIN1 database.
 *
 *   node bin/run-ts.js scripts/reconcile-vs-reladiff.ts [--server URL] [--reladiff PATH] [--only NAME,...] [--all]
 *
 * Prints, per case and placement, every row where the tools disagree (or where
 * dualrun says equal though the two values' texts differ), with Postgres's own
 * `IS DISTINCT FROM` beside them. `--all` prints every row. Exit 0 always: the
 * output is for a person to classify (docs/reconcile.md, "Checked against reladiff").
 */
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import pg from 'pg';
import { compileConfig } from '../src/core/config/compile-config.ts';
import { createLogger } from '../src/core/logger.ts';
import { createRuntime } from '../src/core/runtime.ts';
import { reconcileDataset } from '../reconcile/reconcile-dataset.ts';
import { PEER_CASES, type PeerCase } from '../test/reconcile/peer-cases.ts';

const run = promisify(execFile);
const { values: args } = parseArgs({ options: { server: { type: 'string' }, reladiff: { type: 'string' }, only: { type: 'string' }, all: { type: 'boolean' }, keep: { type: 'boolean' } } });
const server = args.server ?? process.env.DUALRUN_TEST_DATABASE_URL;
if (!server) { console.error('usage: --server postgresql://... (or DUALRUN_TEST_DATABASE_URL)'); process.exit(2); }
const reladiff = args.reladiff ?? '/work/main/.cache/bench-peers/bin/reladiff';
const only = args.only ? new Set(args.only.split(',')) : null;
const cases = PEER_CASES.filter((c) => !only || only.has(c.name));

const tag = Math.random().toString(16).slice(2, 8);
const DBS = { main: `peer_${tag}`, other: `peerx_${tag}`, latin1: `peerl_${tag}` };
const urlOf = (name: string) => { const u = new URL(server); u.pathname = `/${name}`; return u.toString(); };
const pyUrl = (url: string) => url.replace(/^postgres:/, 'postgresql:');

type Placement = 'same' | 'cross' | 'latin1';
const PLACEMENTS: { p: Placement; batchDb: keyof typeof DBS }[] = [{ p: 'same', batchDb: 'main' }, { p: 'cross', batchDb: 'other' }, { p: 'latin1', batchDb: 'latin1' }];

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${DBS.main}`);
await admin.query(`CREATE DATABASE ${DBS.other}`);
await admin.query(`ALTER DATABASE ${DBS.other} SET timezone = 'Pacific/Chatham'`);
await admin.query(`CREATE DATABASE ${DBS.latin1} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
await admin.query(`ALTER DATABASE ${DBS.latin1} SET timezone = 'America/Los_Angeles'`);
const pools = Object.fromEntries(Object.entries(DBS).map(([k, n]) => [k, new pg.Pool({ connectionString: urlOf(n), max: 2 })])) as Record<keyof typeof DBS, pg.Pool>;

const schemaOf = (c: PeerCase, p: Placement) => `pc_${c.name}_${p}`.toLowerCase();
const typed = (t: string, s: string) => t.replace(/\$S\./g, `${s}.`);
const keyCols = (c: PeerCase) => (c.key2 ? ['k1', 'k2'] : c.key ? ['k'] : ['id']);

async function tryQuery(pool: pg.Pool, sql: string): Promise<string | null> {
  try { await pool.query(sql); return null; } catch (e) { return (e as Error).message; }
}

function tableSql(c: PeerCase, s: string, side: 'b' | 's'): string {
  const t = typed(side === 'b' ? c.batchType : c.streamType ?? c.batchType, s);
  const pk = c.noPk ? '' : `, PRIMARY KEY (${keyCols(c).join(', ')})`;
  if (c.key2) return `CREATE TABLE ${s}.${side} (k1 ${c.key2.type1}, k2 ${c.key2.type2}, v text${pk})`;
  if (c.key) return `CREATE TABLE ${s}.${side} (k ${t}, v text${pk})`;
  return `CREATE TABLE ${s}.${side} (id int${c.noPk ? '' : ' NOT NULL'}, v ${t}${pk})`;
}

function rowSql(c: PeerCase, s: string, side: 'b' | 's', i: number, lit: string): string {
  const t = typed(side === 'b' ? c.batchType : c.streamType ?? c.batchType, s);
  if (c.key2) return `INSERT INTO ${s}.${side} (k1, k2, v) VALUES (${lit}, 'x')`;
  if (c.key) return `INSERT INTO ${s}.${side} (k, v) VALUES ((${lit})::${t}, 'x')`;
  return `INSERT INTO ${s}.${side} (id, v) VALUES (${i < 0 ? 'NULL' : i}, (${lit})::${t})`;
}

/** Builds a case's two tables for one placement; rows a database cannot store are left out on both sides. */
async function build(c: PeerCase, p: Placement, batchPool: pg.Pool): Promise<string[]> {
  const s = schemaOf(c, p);
  const notes: string[] = [];
  const pools2 = batchPool === pools.main ? [pools.main] : [batchPool, pools.main];
  for (const pool of pools2) {
    await pool.query(`CREATE SCHEMA ${s}`);
    if (c.setup) { const e = await tryQuery(pool, typed(c.setup, s)); if (e) notes.push(`setup: ${e}`); }
  }
  for (const [side, pool] of [['b', batchPool], ['s', pools.main]] as const) {
    const e = await tryQuery(pool, tableSql(c, s, side));
    if (e) { notes.push(`table ${side}: ${e}`); return notes; }
  }
  for (let i = 0; i < c.pairs.length; i++) {
    const [bl, sl] = c.pairs[i];
    const eb = bl === null ? null : await tryQuery(batchPool, rowSql(c, s, 'b', i + 1, bl));
    const es = sl === null ? null : await tryQuery(pools.main, rowSql(c, s, 's', i + 1, sl));
    if (eb || es) {
      notes.push(`pair ${i + 1} left out: ${eb ?? es}`);
      if (!eb && bl !== null && !c.key) await batchPool.query(`DELETE FROM ${s}.b WHERE id = ${i + 1}`);
      if (!es && sl !== null && !c.key) await pools.main.query(`DELETE FROM ${s}.s WHERE id = ${i + 1}`);
      if (c.key) notes.push('  (key case: the other side keeps its row)');
    }
  }
  for (const [side, id, lit] of c.extra ?? []) {
    const e = await tryQuery(side === 'b' ? batchPool : pools.main, rowSql(c, s, side, id, lit));
    if (e) notes.push(`extra row: ${e}`);
  }
  return notes;
}

/** reladiff's differing keys (`-`/`+` rows), as key texts joined by `|`. */
async function reladiffKeys(c: PeerCase, p: Placement, batchUrl: string, algo: 'hashdiff' | 'joindiff'): Promise<{ keys: Set<string>; error?: string }> {
  const s = schemaOf(c, p);
  const keyArgs = keyCols(c).flatMap((k) => ['-k', k]);
  const dbArgs = p === 'same' ? [pyUrl(batchUrl), `${s}.b`, `${s}.s`] : [pyUrl(batchUrl), `${s}.b`, pyUrl(urlOf(DBS.main)), `${s}.s`];
  try {
    const { stdout, stderr } = await run(reladiff, [...dbArgs, ...keyArgs, '-c', 'v', '--json', '-a', algo, '--allow-empty-tables', '--skip-sort-results'], { timeout: 60_000 });
    // reladiff logs some failures (a key type it cannot use) and still exits 0.
    const logged = stderr.split('\n').filter((l) => /\bERROR\b/.test(l));
    if (logged.length) return { keys: new Set(), error: logged.join(' ').slice(0, 300) };
    const keys = new Set<string>();
    for (const line of stdout.split('\n').filter(Boolean)) {
      const [, row] = JSON.parse(line) as [string, unknown[]];
      keys.add(row.slice(0, keyCols(c).length).map(String).join('|'));
    }
    return { keys };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { keys: new Set(), error: (err.stderr ?? err.message).split('\n').filter((l) => /error|exception/i.test(l)).slice(-2).join(' ').slice(0, 300) || err.message.slice(0, 300) };
  }
}

const datasets: Record<string, unknown> = {};
for (const c of cases) for (const { p, batchDb } of PLACEMENTS) {
  const s = schemaOf(c, p);
  datasets[s] = {
    key: keyCols(c),
    batch: { output: `${s}.b`, ...(batchDb === 'main' ? {} : { database: urlOf(DBS[batchDb]) }) },
    stream: { output: `${s}.s`, source: { topic: 'peer.topic', format: 'json' } },
    reconcile: { columns: ['v'], buckets: 1021 },
  };
}
const config = compileConfig({ database: { url: urlOf(DBS.main) }, datasets }, { path: null });
const rt = createRuntime({ config, log: createLogger('silent') });
await rt.db();

const summary: string[] = [];
for (const c of cases) {
  for (const { p, batchDb } of PLACEMENTS) {
    const s = schemaOf(c, p);
    const notes = await build(c, p, pools[batchDb]);
    const [r] = await reconcileDataset(rt, s, { assumeSettled: true, samples: 1000, store: false });
    // One bucket: every row goes through the drill-down, whatever the fingerprint says.
    const [r1] = await reconcileDataset(rt, s, { assumeSettled: true, samples: 1000, store: false, buckets: 1 });
    const keysOf = (x: typeof r) => {
      const m = new Map<string, string>();
      for (const y of x.diff?.samples ?? []) m.set(keyCols(c).map((k) => String(y.key[k])).join('|'), y.kind === 'changed' ? `changed ${JSON.stringify(y.columns?.v)}` : y.kind);
      return m;
    };
    const dr = keysOf(r);
    const dr1 = keysOf(r1);
    const oneBucket = JSON.stringify([...dr1].sort()) === JSON.stringify([...dr].sort()) && r1.verdict === r.verdict ? '' : ` ONE-BUCKET DIFFERS: ${r1.verdict} ${JSON.stringify([...dr1])}`;
    const hash = await reladiffKeys(c, p, urlOf(DBS[batchDb]), 'hashdiff');
    const join = p === 'same' ? await reladiffKeys(c, p, urlOf(DBS[batchDb]), 'joindiff') : null;
    const head = `${c.name} [${p}] ${c.batchType}${c.streamType ? ' / ' + c.streamType : ''}: dualrun ${r.verdict}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}${r.schemaDrift?.length ? ` drift: ${r.schemaDrift.map((d) => d.reason).join('; ')}` : ''}${oneBucket}; reladiff hashdiff ${hash.error ? `ERROR ${hash.error}` : hash.keys.size}${join ? `, joindiff ${join.error ? `ERROR ${join.error}` : join.keys.size}` : ''}`;
    const lines: string[] = [];
    // Value cases: per pair, with Postgres's own verdicts beside (same database only).
    const pgv = new Map<number, { textDiff: boolean | string; pgDiff: boolean | string }>();
    if (!c.key && p === 'same') {
      for (let i = 1; i <= c.pairs.length; i++) {
        const q = async (expr: string) => { try { return (await pools.main.query(`SELECT ${expr} AS d FROM ${s}.b FULL JOIN ${s}.s USING (id) WHERE id = ${i} LIMIT 1`)).rows[0]?.d ?? 'absent'; } catch (e) { return `err: ${(e as Error).message.slice(0, 60)}`; } };
        pgv.set(i, { textDiff: await q('b.v::text IS DISTINCT FROM s.v::text'), pgDiff: await q('b.v IS DISTINCT FROM s.v') });
      }
    }
    const allKeys = new Set<string>([...dr.keys(), ...hash.keys, ...(join?.keys ?? [])]);
    if (!c.key) for (let i = 1; i <= c.pairs.length; i++) allKeys.add(String(i));
    for (const k of [...allKeys].sort()) {
      const d = dr.get(k) ?? 'equal';
      const h = hash.error ? 'error' : hash.keys.has(k) ? 'diff' : 'equal';
      const j = join ? (join.error ? 'error' : join.keys.has(k) ? 'diff' : 'equal') : '-';
      const v = pgv.get(Number(k));
      const pair = !c.key ? c.pairs[Number(k) - 1] : undefined;
      const dualEq = d === 'equal';
      const disagree = (h !== 'error' && dualEq !== (h === 'equal')) || (dualEq && v?.textDiff === true) || (j !== '-' && j !== 'error' && dualEq !== (j === 'equal'));
      if (disagree || args.all) lines.push(`  ${disagree ? '!!' : '  '} key ${k}${pair ? ` ${pair[0]} | ${pair[1]}` : ''}: dualrun ${d}; hashdiff ${h}; joindiff ${j}${v ? `; pg text-distinct ${v.textDiff}, pg distinct ${v.pgDiff}` : ''}`);
    }
    const out = [head, ...notes.map((n) => `   note: ${n}`), ...lines];
    console.log(out.join('\n'));
    if (lines.some((l) => l.includes('!!')) || r.error || hash.error || oneBucket) summary.push(head);
  }
}
console.log('\n== cases with disagreements or errors ==\n' + summary.join('\n'));

await rt.close();
for (const pool of Object.values(pools)) await pool.end();
if (args.keep) console.log(`kept databases ${Object.values(DBS).join(', ')}`);
else for (const n of Object.values(DBS)) await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
await admin.end();
process.exit(0);
