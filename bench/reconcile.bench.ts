/**
 * Reconcile (issue 12): the real `dualrun reconcile` CLI on two 10M-row tables
 * (bigint key, int, numeric(12,2), text, timestamptz), beside what is measured
 * in the same run on the same default-settings Postgres:
 *   - the floor: per table `SELECT count(*), sum(hashtextextended(concat_ws(chr(31),
 *     <every compared column>), 0))`, the two tables one after the other (the
 *     definition of ../shared/bench/reconcile-vs-floor.sh);
 *   - reladiff from PyPI (installed into .cache/bench-peers when python3 is
 *     present): `--algorithm joindiff` in one database, `hashdiff` across two.
 * Cases: same database with 100 differences; two databases with 100; same
 * database with 1% of rows different. Peak RSS of each dualrun process.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { BenchFigure, BenchHarness, BenchModule } from './harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..');
const PRELOAD = path.join(ROOT, 'test', 'reconcile', 'fixtures', 'peak-rss.mjs');
const BIN = path.join(ROOT, 'bin', 'dualrun.js');
const RSS_CEILING_MB = 150;
const COLUMNS = ['id', 'cust', 'amount', 'status', 'ts'];

function dbUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally { await c.end(); }
  return dbUrl(serverUrl, name);
}

/** The shared script's tables: `diffs` differences (half changed, a quarter missing on each side). */
function seedSql(table: string, rows: number, diffs: number | null): string {
  const make = `CREATE TABLE ${table} (id bigint PRIMARY KEY, cust int, amount numeric(12,2), status text, ts timestamptz);
INSERT INTO ${table} SELECT g, g % 1000, (g % 100000) / 100.0, 's' || (g % 7), timestamptz '2026-11-20' + g * interval '1 ms' FROM generate_series(1, ${rows}) g;`;
  if (diffs === null) return `${make} VACUUM ANALYZE ${table};`;
  return `${make}
UPDATE ${table} SET amount = amount + 1 WHERE id IN (SELECT (g * 7919) % ${rows} + 1 FROM generate_series(1::bigint, ${diffs / 2}) g);
DELETE FROM ${table} WHERE id IN (SELECT (g * 104729) % ${rows} + 1 FROM generate_series(1::bigint, ${diffs / 4}) g);
INSERT INTO ${table} SELECT ${rows} + g, 1, 1, 'x', now() FROM generate_series(1, ${diffs / 4}) g;
VACUUM ANALYZE ${table};`;
}

/** Distinct keys the seeding made differ (modular strides may collide, so count them). */
async function expectedDifferences(url: string, rows: number, diffs: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(`SELECT (count(DISTINCT k) + ${diffs / 4})::text AS n FROM (
        SELECT (g * 7919) % ${rows} + 1 AS k FROM generate_series(1::bigint, ${diffs / 2}) g
        UNION ALL SELECT (g * 104729) % ${rows} + 1 FROM generate_series(1::bigint, ${diffs / 4}) g) x`);
    return Number(r.rows[0].n);
  } finally { await c.end(); }
}

/** Runs statements one by one (VACUUM cannot share a multi-statement query's implicit transaction). */
async function run(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const stmt of sql.split(/;\s*/).filter((x) => x.trim() !== '')) await c.query(stmt);
  } finally { await c.end(); }
}

/** The floor as the issue defines it: both tables one after the other, one connection, server defaults. */
async function floorSeconds(tables: [string, string][]): Promise<number> {
  const t0 = performance.now();
  for (const [url, table] of tables) {
    await run(url, `SELECT count(*), sum(hashtextextended(concat_ws(chr(31), ${COLUMNS.join(', ')}), 0)) FROM ${table}`);
  }
  return (performance.now() - t0) / 1000;
}

interface CliRun { seconds: number; rssMb: number; located: number; verdict: string }

async function dualrunReconcile(h: BenchHarness, cfg: object, expectLocated: number): Promise<CliRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-bench-rc-'));
  try {
    const config = path.join(dir, 'dualrun.json');
    fs.writeFileSync(config, JSON.stringify(cfg));
    const rssFile = path.join(dir, 'rss');
    const env = { ...process.env, DUALRUN_PEAK_RSS_FILE: rssFile, DUALRUN_LOG_LEVEL: 'warn', DUALRUN_CONFIG: undefined };
    await new Promise<void>((resolve, reject) => {
      const m = spawn(process.execPath, [BIN, 'migrate', '--config', config], { cwd: dir, stdio: 'ignore', env });
      m.on('error', reject);
      m.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`dualrun migrate exited ${code}`))));
    });
    const t0 = performance.now();
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', PRELOAD, BIN, 'reconcile', 'perf', '--config', config, '--assume-settled', '--format', 'json', '--samples', '1000'], { cwd: dir, env });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    const seconds = (performance.now() - t0) / 1000;
    if (out.code !== 1) throw new Error(`dualrun reconcile exited ${out.code}, expected 1 (mismatch): ${out.stderr.slice(0, 2000)}`);
    const parsed = JSON.parse(out.stdout) as { verdict: string; diff: { missingInStream: number; missingInBatch: number; changed: number } } | { verdict: string; diff: { missingInStream: number; missingInBatch: number; changed: number } }[];
    const r = Array.isArray(parsed) ? parsed[0] : parsed;
    const located = r.diff.missingInStream + r.diff.missingInBatch + r.diff.changed;
    if (located !== expectLocated) throw new Error(`dualrun located ${located} differences, expected ${expectLocated}`);
    const rssMb = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
    h.note(`reconcile: dualrun ${seconds.toFixed(2)} s, ${located} located, peak RSS ${rssMb.toFixed(0)} MB`);
    return { seconds, rssMb, located, verdict: r.verdict };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** reladiff from PyPI in a venv of our own; null (with a note) when Python 3 or the install is missing. */
function reladiffBin(h: BenchHarness): string | null {
  const venv = path.join(ROOT, '.cache', 'bench-peers');
  const bin = path.join(venv, 'bin', 'reladiff');
  if (fs.existsSync(bin)) return bin;
  if (spawnSync('python3', ['--version']).status !== 0) { h.note('reconcile: python3 not found, reladiff skipped'); return null; }
  const mk = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
  const pip = mk.status === 0 ? spawnSync(path.join(venv, 'bin', 'pip'), ['install', '-q', 'reladiff[postgresql]'], { stdio: 'ignore' }) : mk;
  if (pip.status !== 0 || !fs.existsSync(bin)) { h.note('reconcile: reladiff install failed, skipped'); return null; }
  return bin;
}

async function reladiff(h: BenchHarness, bin: string, a: [string, string], b: [string, string], algorithm: 'joindiff' | 'hashdiff'): Promise<number> {
  const u = (url: string) => url.replace(/^postgres:/, 'postgresql:');
  const args = [u(a[0]), a[1], ...(a[0] === b[0] ? [] : [u(b[0])]), b[1], '-k', 'id', ...COLUMNS.slice(1).flatMap((c) => ['-c', c]), '-j', '2', '--algorithm', algorithm, '--stats'];
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => { if (c !== 0 && c !== 1) h.note(`reladiff ${algorithm} exited ${c}: ${err.slice(0, 500)}`); resolve(c); });
  });
  const seconds = (performance.now() - t0) / 1000;
  h.note(`reconcile: reladiff ${algorithm} ${seconds.toFixed(2)} s (exit ${code})`);
  return seconds;
}

function datasetConfig(batchUrl: string, batchTable: string, streamUrl: string, streamTable: string): object {
  return {
    database: { url: batchUrl },
    datasets: { perf: { key: ['id'], batch: { output: batchTable }, stream: { output: streamTable, ...(streamUrl === batchUrl ? {} : { database: streamUrl }), source: { table: 'perf.src' } } } },
  };
}

function timeFigure(name: string, value: number, ceiling: number, ceilingName: string, target: number, detail: string): BenchFigure {
  return { name, value, unit: 's', ceiling, ceilingName, ratio: value / ceiling, target: `<= ${target}`, pass: value / ceiling <= target, detail };
}

function peerFigure(name: string, dualrun: number, peer: number, target: number): BenchFigure {
  return { name, value: dualrun, unit: 's', ceiling: peer, ceilingName: 'reladiff', ratio: peer / dualrun, target: `>= ${target} (reladiff time / dualrun time)`, pass: peer / dualrun >= target };
}

function rssFigure(name: string, mb: number): BenchFigure {
  return { name, value: mb, unit: 'MB', ceiling: RSS_CEILING_MB, ceilingName: 'issue 12 ceiling', ratio: mb / RSS_CEILING_MB, target: '<= 1', pass: mb <= RSS_CEILING_MB };
}

const bench: BenchModule = async (h) => {
  const rows = h.scale === 'quick' ? 1_000_000 : 10_000_000;
  const label = `${rows / 1e6}M`;
  const t0 = Date.now();
  const a = await recreateDatabase(h.pgUrl, 'bench_reconcile_a');
  const b = await recreateDatabase(h.pgUrl, 'bench_reconcile_b');
  await run(a, `CREATE SCHEMA perf; ${seedSql('perf.b', rows, null)} ${seedSql('perf.s', rows, 100)} ${seedSql('perf.s1', rows, rows / 100)}`);
  await run(b, `CREATE SCHEMA perf; ${seedSql('perf.s', rows, 100)}`);
  h.note(`reconcile: seeded 2 databases (${label} rows per table) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const [small, large] = await Promise.all([expectedDifferences(a, rows, 100), expectedDifferences(a, rows, rows / 100)]);
  const peer = reladiffBin(h);
  const figures: BenchFigure[] = [];
  try {
    await floorSeconds([[a, 'perf.b'], [a, 'perf.s']]); // warm the cache once
    // Same database, 100 differences.
    const floorSame = await floorSeconds([[a, 'perf.b'], [a, 'perf.s']]);
    const same = await dualrunReconcile(h, datasetConfig(a, 'perf.b', a, 'perf.s'), small);
    figures.push(timeFigure(`reconcile ${label} same database, ${small} differences located`, same.seconds, floorSame, 'floor (bare hashing scan, both tables)', 1.5, `floor ${floorSame.toFixed(2)} s`));
    figures.push(rssFigure(`reconcile ${label} same database peak RSS`, same.rssMb));
    if (peer) figures.push(peerFigure(`reconcile ${label} same database vs reladiff joindiff`, same.seconds, await reladiff(h, peer, [a, 'perf.b'], [a, 'perf.s'], 'joindiff'), 2));
    // Two databases, 100 differences.
    const floorCross = await floorSeconds([[a, 'perf.b'], [b, 'perf.s']]);
    const cross = await dualrunReconcile(h, datasetConfig(a, 'perf.b', b, 'perf.s'), small);
    figures.push(timeFigure(`reconcile ${label} two databases, ${small} differences located`, cross.seconds, floorCross, 'floor (bare hashing scan, both tables)', 2, `floor ${floorCross.toFixed(2)} s`));
    figures.push(rssFigure(`reconcile ${label} two databases peak RSS`, cross.rssMb));
    if (peer) figures.push(peerFigure(`reconcile ${label} two databases vs reladiff hashdiff`, cross.seconds, await reladiff(h, peer, [a, 'perf.b'], [b, 'perf.s'], 'hashdiff'), 4));
    // Same database, 1% of rows different.
    const floorMany = await floorSeconds([[a, 'perf.b'], [a, 'perf.s1']]);
    const many = await dualrunReconcile(h, datasetConfig(a, 'perf.b', a, 'perf.s1'), large);
    figures.push(timeFigure(`reconcile ${label} same database, ${large} differences (1%)`, many.seconds, floorMany, 'floor (bare hashing scan, both tables)', 3, `floor ${floorMany.toFixed(2)} s; samples capped at 1000`));
    figures.push(rssFigure(`reconcile ${label} 1% different peak RSS`, many.rssMb));
    return figures;
  } finally {
    const c = new pg.Client({ connectionString: h.pgUrl });
    await c.connect();
    for (const name of ['bench_reconcile_a', 'bench_reconcile_b']) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await c.end();
  }
};

export default bench;
