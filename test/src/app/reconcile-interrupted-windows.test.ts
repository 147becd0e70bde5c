/**
 * `dualrun reconcile --from --to` stopped by SIGTERM between windows: the windows it
 * never reached were left out of the result without a word (the array looked
 * complete), and the exit code was that of the judged ones when one mismatched (1). Now every asked-for window has a result: the
 * unjudged ones say DUALRUN_INTERRUPTED (and are not stored: an interruption is
 * neither evidence nor a failed comparison), and the command exits 143.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { BIN } from '../../support/cli.ts';

const DAYS = 8;
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase('interrupted');
  await db.pool.query(`
    CREATE SCHEMA s;
    CREATE TABLE s.base (id int PRIMARY KEY, v int, day date NOT NULL);
    INSERT INTO s.base SELECT g, g, DATE '2026-10-01' + (g % ${DAYS}) FROM generate_series(1, 400) g;
    -- Each scan of the batch side takes 0.3 s: a window takes about a second, so a signal lands between windows.
    CREATE VIEW s.slow_batch AS SELECT b.* FROM s.base b, (SELECT pg_sleep(0.3)) z;
    CREATE TABLE s.stream AS SELECT id, v, day FROM s.base;
    -- A mismatching pair (every window differs): the drill-down scans many times, so a shorter sleep.
    CREATE VIEW s.slow_batch_m AS SELECT b.* FROM s.base b, (SELECT pg_sleep(0.03)) z;
    CREATE TABLE s.stream_m AS SELECT id, v + 1 AS v, day FROM s.base;`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-interrupted-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({
    database: { url: db.url },
    datasets: {
      days: { key: ['id'], window: { column: 'day', grain: 'day' }, batch: { output: 's.slow_batch' }, stream: { output: 's.stream' } },
      differing: { key: ['id'], window: { column: 'day', grain: 'day' }, batch: { output: 's.slow_batch_m' }, stream: { output: 's.stream_m' } },
    },
  }));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

async function storedCount(dataset: string): Promise<number> {
  const r = await db.pool.query(`SELECT count(*)::int AS n FROM dualrun.reconciliations WHERE dataset = $1`, [dataset]).catch(() => ({ rows: [{ n: 0 }] }));
  return r.rows[0].n;
}

describe('reconcile over several windows, interrupted', () => {
  it.each([
    ['days', 'match'],
    // A mismatch found before the signal exited 1, as if the answer were complete.
    ['differing', 'mismatch'],
  ])('SIGTERM after the first window of %s: each unjudged window is listed as DUALRUN_INTERRUPTED, nothing of them stored, exit 143', async (dataset, verdict) => {
    const to = `2026-10-0${DAYS}`;
    const child = spawn(process.execPath, [BIN, '--config', path.join(dir, 'dualrun.yaml'), 'reconcile', dataset, '--from', '2026-10-01', '--to', to, '--assume-settled', '--format', 'json'],
      { cwd: dir, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 600 && child.exitCode === null && (await storedCount(dataset)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await closed;

    const results = JSON.parse(stdout) as { window: string; verdict: string; error?: { code: string; message: string } }[];
    expect(results.map((r) => r.window)).toEqual(Array.from({ length: DAYS }, (_, i) => `2026-10-0${i + 1}`));
    const judged = results.filter((r) => r.verdict === verdict);
    const unjudged = results.filter((r) => r.error?.code === 'DUALRUN_INTERRUPTED');
    expect(judged.length).toBeGreaterThan(0);
    expect(unjudged.length, stderr).toBeGreaterThan(0);
    expect(judged.length + unjudged.length).toBe(DAYS);
    expect(results.slice(judged.length).every((r) => r.verdict === 'error')).toBe(true);
    expect(unjudged[0].error!.message).toMatch(/not judged: stopped by SIGTERM/);
    expect(await storedCount(dataset)).toBe(judged.length);
    expect(code, stderr).toBe(143);
  });
});
