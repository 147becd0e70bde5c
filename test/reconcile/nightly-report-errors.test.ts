/**
 * The nightly report read only dualrun.reconciliations, so windows that could not be
 * judged (dualrun.reconcile_errors: a table missing, a database away, a timeout) were
 * not in it: a night whose every reconciliation failed was reported as `none`, "no
 * verdicts", with exit 0, and the trend showed a quiet night. They are verdicts of the
 * night now (`error`, ids `e<id>`), superseded like any other by a later verdict of the
 * same window, and a standing error makes `dualrun report` exit 3.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';

let db: TestDatabase;
let dir: string;
const cli = (args: string[]) => runCli(['--config', path.join(dir, 'dualrun.yaml'), ...args], { cwd: dir });

interface Night { status: string; datasets: { dataset: string; status: string; verdicts: { id: string; verdict: string; supersededBy: string | null; result: { error?: { code: string; message: string } } }[]; history: { status: string }[] }[] }

beforeAll(async () => {
  db = await createTestDatabase('night_errors');
  await db.pool.query(`CREATE SCHEMA s; CREATE TABLE s.stream (id int PRIMARY KEY, v int, day date NOT NULL); INSERT INTO s.stream VALUES (1, 1, '2026-11-20')`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-night-errors-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({
    database: { url: db.url },
    datasets: { orders: { key: ['id'], window: { column: 'day', grain: 'day' }, batch: { output: 's.batch' }, stream: { output: 's.stream' } } },
  }));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('the nightly report and windows that could not be judged', () => {
  it('a failed reconciliation is the night\'s standing verdict (error, exit 3), in JSON, Markdown and the trend', async () => {
    // A batch output that is not there is a config mistake (exit 2); the report still says the night could not be answered.
    const failed = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled']);
    expect(failed.code).toBe(2);
    const r = await cli(['report', '--format', 'json']);
    expect(r.code, r.stderr).toBe(3);
    const night = JSON.parse(r.stdout) as Night;
    expect(night.status).toBe('error');
    const orders = night.datasets[0];
    expect(orders.status).toBe('error');
    expect(orders.verdicts).toHaveLength(1);
    expect(orders.verdicts[0]).toMatchObject({ verdict: 'error', supersededBy: null });
    expect(orders.verdicts[0].id).toMatch(/^e\d+$/);
    expect(orders.verdicts[0].result.error).toMatchObject({ code: 'DUALRUN_CONFIG_INVALID', message: expect.stringContaining('datasets.orders.batch.output: table s.batch does not exist') });
    expect(orders.history.at(-1)!.status).toBe('error');
    const md = await cli(['report', '--format', 'md']);
    expect(md.code).toBe(3);
    expect(md.stdout).toMatch(/\| #e\d+ \| 2026-11-20 \| error \| standing \|.*s\.batch/);
  });

  it('a later verdict of the same window supersedes the error: the night stands on it', async () => {
    await db.pool.query(`CREATE TABLE s.batch (id int PRIMARY KEY, v int, day date NOT NULL); INSERT INTO s.batch VALUES (1, 1, '2026-11-20')`);
    const judged = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled']);
    expect(judged.code, judged.stderr).toBe(0);
    const r = await cli(['report', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const orders = (JSON.parse(r.stdout) as Night).datasets[0];
    expect(orders.status).toBe('match');
    expect(orders.verdicts.map((v) => v.verdict)).toEqual(['error', 'match']);
    expect(orders.verdicts[0].supersededBy).toBe(orders.verdicts[1].id);
    expect(orders.history.at(-1)!.status).toBe('match');
  });
});
