/**
 * Memory stays bounded by the differences and the bucket size, not the table:
 * the real CLI reconciles two 1M-row tables in a child process whose peak RSS
 * (VmHWM) is read at exit. Once with 50 differences (the acceptance figure), once
 * with the whole stream side missing (every row differs: the cursor path) under
 * a capped V8 heap, which would fail if memory grew with the table.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { BIN } from '../support/cli.ts';
import { freshDatabase } from './support.ts';

const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'peak-rss.mjs');
const ROWS = 1_000_000;
const LIMIT_MB = 150;
// Every row different, under a capped heap: large enough to cycle the collector many
// times, small enough that GC pressure on a loaded 2-core box stays well inside the timeout.
const ALL_DIFFERENT = 200_000;

let db: TestDatabase;
let dir: string;

async function seed(): Promise<void> {
  await db.pool.query(`CREATE SCHEMA m;
    CREATE TABLE m.batch (id bigint, customer text, amount numeric(12,2), status text, at timestamptz);
    CREATE TABLE m.stream (id bigint, customer text, amount numeric(12,2), status text, at timestamptz, _dr_source_ts timestamptz);
    CREATE TABLE m.empty (id bigint PRIMARY KEY, customer text, amount numeric(12,2), status text, at timestamptz)`);
  const fill = (t: string) => db.pool.query(`INSERT INTO m.${t} (id, customer, amount, status, at)
    SELECT i, 'customer ' || (i % 5000), (i % 10000) / 100.0, (ARRAY['new','paid','shipped'])[1 + i % 3], '2026-11-20T00:00:00Z'::timestamptz + i * interval '1 ms'
      FROM generate_series(1, ${ROWS}) i`);
  await Promise.all([fill('batch'), fill('stream')]);
  // 50 differences: 20 changed, 15 missing in stream, 15 missing in batch.
  await db.pool.query(`UPDATE m.stream SET status = 'lost' WHERE id % 50000 = 7`);
  await db.pool.query(`DELETE FROM m.stream WHERE id % 66000 = 11 AND id < 990000`);
  await db.pool.query(`INSERT INTO m.stream (id, customer, amount, status, at) SELECT ${ROWS} + i, 'x', 1, 'new', now() FROM generate_series(1, 15) i`);
  await Promise.all([db.pool.query('ALTER TABLE m.batch ADD PRIMARY KEY (id)'), db.pool.query('ALTER TABLE m.stream ADD PRIMARY KEY (id)')]);
  await db.pool.query(`ANALYZE m.batch; ANALYZE m.stream; CREATE VIEW m.batch_v AS SELECT * FROM m.batch WHERE id <= ${ALL_DIFFERENT}`);
}

function reconcileInChild(dataset: string, nodeOptions?: string): Promise<{ code: number | null; stdout: string; stderr: string; peakMb: number }> {
  const rssFile = path.join(dir, `${dataset}.rss`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', PRELOAD, BIN, 'reconcile', dataset, '--format', 'json', '--assume-settled'], {
      cwd: dir, env: { ...process.env, DUALRUN_PEAK_RSS_FILE: rssFile, DUALRUN_LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions, DUALRUN_CONFIG: undefined, DATABASE_URL: undefined },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, peakMb: Number(fs.readFileSync(rssFile, 'utf8')) / 1024 }));
  });
}

beforeAll(async () => {
  db = await freshDatabase('rcm');
  await seed();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-rc-mem-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), `database:
  url: ${db.url}
datasets:
  big:
    key: [id]
    batch: { output: m.batch }
    stream: { output: m.stream, source: { topic: t, format: json } }
  gone:
    key: [id]
    batch: { output: m.batch_v }
    stream: { output: m.empty, source: { topic: t2, format: json } }
`);
}, 180_000);
afterAll(async () => { await db?.drop(); fs.rmSync(dir, { recursive: true, force: true }); });

describe('reconcile memory (child process, peak RSS)', () => {
  it(`1M rows with 50 differences: all 50 located, peak RSS under ${LIMIT_MB} MB`, async () => {
    const r = await reconcileInChild('big');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o.batch.rows).toBe(ROWS);
    expect(o.diff).toMatchObject({ changed: 20, missingInStream: 15, missingInBatch: 15, duplicateKeys: 0 });
    console.log(`reconcile 1M/50 differences: peak RSS ${r.peakMb.toFixed(1)} MB`);
    expect(r.peakMb).toBeLessThan(LIMIT_MB);
  }, 120_000);

  // Left alone, V8 lets its heap grow lazily while many rows of garbage stream through
  // (peak ~170-190 MB here, of which ~100 MB is the CLI's own baseline). With the heap capped,
  // the run completes: nothing grows with the table, it only waits for the collector.
  it(`${ALL_DIFFERENT} rows all missing in the stream, V8 heap capped at 48 MB: every key counted, peak RSS under ${LIMIT_MB} MB`, async () => {
    const r = await reconcileInChild('gone', '--max-old-space-size=48');
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o.diff).toMatchObject({ missingInStream: ALL_DIFFERENT, missingInBatch: 0, changed: 0 });
    expect(o.diff.samples).toHaveLength(20);
    console.log(`reconcile ${ALL_DIFFERENT} all different: peak RSS ${r.peakMb.toFixed(1)} MB`);
    expect(r.peakMb).toBeLessThan(LIMIT_MB);
  }, 150_000);
});
