/**
 * Differential probe: the reconciler against reladiff 0.6 on the cases of
 * test/reconcile/peer-cases.ts, in one database, across two (the batch side's
 * database in another TimeZone) and from a LATIN1 database.
 *
 *   npm run probe:reladiff -- [--server URL] [--reladiff PATH] [--only NAME,...] [--all] [--no-reladiff] [--print-expect] [--keep]
 *
 * Prints, per case and placement, every row where the tools disagree (or where
 * dualrun says equal though the two values' texts differ), with Postgres's own
 * `IS DISTINCT FROM` beside them. `--all` prints every row. Exit 0 always: the
 * output is for a person to classify (docs/reconcile.md, "Checked against reladiff").
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import pg from 'pg';
import { compileConfig } from '../src/core/config/compile-config.ts';
import { createLogger } from '../src/core/logger.ts';
import { createRuntime } from '../src/core/runtime.ts';
import { reconcileDataset } from '../reconcile/reconcile-dataset.ts';
import { PEER_CASES, type PeerCase } from '../test/reconcile/peer-cases.ts';
import { buildCase, caseDataset, differingKeys, keyCols, pairFindings } from '../test/reconcile/peer-build.ts';

const run = promisify(execFile);
const { values: args } = parseArgs({ options: { server: { type: 'string' }, reladiff: { type: 'string' }, only: { type: 'string' }, all: { type: 'boolean' }, keep: { type: 'boolean' }, 'no-reladiff': { type: 'boolean' }, 'print-expect': { type: 'boolean' } } });
const server = args.server ?? process.env.DUALRUN_TEST_DATABASE_URL;
if (!server) { console.error('usage: --server postgresql://... (or DUALRUN_TEST_DATABASE_URL)'); process.exit(2); }
// Where `npm run bench` installs reladiff (bench/peers), unless --reladiff or RELADIFF says otherwise.
const reladiff = args.reladiff ?? process.env.RELADIFF ?? path.resolve('.cache/bench-peers/bin/reladiff');
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

/** reladiff's differing keys (`-`/`+` rows), as key texts joined by `|`. */
async function reladiffKeys(c: PeerCase, p: Placement, batchUrl: string, algo: 'hashdiff' | 'joindiff'): Promise<{ keys: Set<string>; error?: string }> {
  if (args['no-reladiff']) return { keys: new Set(), error: 'not run' };
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
      const parts = row.slice(0, keyCols(c).length).map(String);
      keys.add(parts.length === 1 ? parts[0] : JSON.stringify(parts)); // as differingKeys writes a key
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
  datasets[s] = caseDataset(c, s, batchDb === 'main' ? undefined : urlOf(DBS[batchDb]), 1021);
}
const config = compileConfig({ database: { url: urlOf(DBS.main) }, datasets }, { path: null });
const rt = createRuntime({ config, log: createLogger('silent') });
await rt.db();

const summary: string[] = [];
const expectations: string[] = [];
for (const c of cases) {
  let samePlacement: string | null = null;
  for (const { p, batchDb } of PLACEMENTS) {
    const s = schemaOf(c, p);
    const notes = await buildCase(c, s, pools[batchDb], pools.main);
    const [r] = await reconcileDataset(rt, s, { assumeSettled: true, samples: 1000, store: false });
    // One bucket: every row goes through the drill-down, whatever the fingerprint says.
    const [r1] = await reconcileDataset(rt, s, { assumeSettled: true, samples: 1000, store: false, buckets: 1 });
    const dr = differingKeys(c, r);
    const dr1 = differingKeys(c, r1);
    const oneBucket = JSON.stringify([...dr1].sort()) === JSON.stringify([...dr].sort()) && r1.verdict === r.verdict ? '' : ` ONE-BUCKET DIFFERS: ${r1.verdict} ${JSON.stringify([...dr1])}`;
    if (args['print-expect'] && p === 'same') expectations.push(`${c.name}\t${c.key ? '' : pairFindings(c, dr)}\t${[...dr.keys()].filter((k) => c.key || !(Number(k) >= 1 && Number(k) <= c.pairs.length)).length}`);
    const hash = await reladiffKeys(c, p, urlOf(DBS[batchDb]), 'hashdiff');
    const join = p === 'same' ? await reladiffKeys(c, p, urlOf(DBS[batchDb]), 'joindiff') : null;
    // Every placement must find what the same-database run found (rows a database cannot store aside).
    const mine = JSON.stringify([...dr].sort());
    samePlacement ??= mine;
    const placementNote = mine === samePlacement || notes.some((n) => n.startsWith('pair')) ? '' : ` PLACEMENT DIFFERS from same: ${mine}`;
    const head = `${c.name} [${p}] ${c.batchType}${c.streamType ? ' / ' + c.streamType : ''}: dualrun ${r.verdict}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}${r.schemaDrift?.length ? ` drift: ${r.schemaDrift.map((d) => d.reason).join('; ')}` : ''}${oneBucket}${placementNote}; reladiff hashdiff ${hash.error ? `ERROR ${hash.error}` : hash.keys.size}${join ? `, joindiff ${join.error ? `ERROR ${join.error}` : join.keys.size}` : ''}`;
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
    if (lines.some((l) => l.includes('!!')) || r.error || hash.error || oneBucket || placementNote) summary.push(head);
  }
}
console.log('\n== cases with disagreements or errors ==\n' + summary.join('\n'));
if (args['print-expect']) console.log('\n== expectations (case, per pair, other keys) ==\n' + expectations.join('\n'));

await rt.close();
for (const pool of Object.values(pools)) await pool.end();
// A pool that still holds an idle connection to a dropped database reports it: expected here.
process.on('uncaughtException', (e) => { if ((e as { code?: string }).code !== '57P01') throw e; });
if (args.keep) console.log(`kept databases ${Object.values(DBS).join(', ')}`);
else for (const n of Object.values(DBS)) await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
await admin.end();
process.exit(0);
