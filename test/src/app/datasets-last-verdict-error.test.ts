/**
 * `dualrun datasets` showed as LAST VERDICT the newest stored verdict only, so after a
 * reconciliation that could not run (stored in dualrun.reconcile_errors) it still said
 * `match` from the run before: the one place an engineer glances at hid the failure.
 * The newest attempt is shown now, an error with its message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { runCli } from '../../support/cli.ts';

let db: TestDatabase;
let dir: string;
const cli = (args: string[]) => runCli(['--config', path.join(dir, 'dualrun.yaml'), ...args], { cwd: dir });

beforeAll(async () => {
  db = await createTestDatabase('last_verdict');
  await db.pool.query(`CREATE SCHEMA s;
    CREATE TABLE s.batch (id int PRIMARY KEY, v int); CREATE TABLE s.stream (id int PRIMARY KEY, v int);
    INSERT INTO s.batch VALUES (1, 1); INSERT INTO s.stream VALUES (1, 1);`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-last-verdict-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({
    database: { url: db.url }, datasets: { orders: { key: ['id'], batch: { output: 's.batch' }, stream: { output: 's.stream' } } },
  }));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('dualrun datasets: last verdict', () => {
  it('after a match, a reconciliation that cannot run is the last verdict (error, with its message)', async () => {
    expect((await cli(['reconcile', 'orders', '--assume-settled'])).code).toBe(0);
    const before = JSON.parse((await cli(['datasets', '--format', 'json'])).stdout);
    expect(before[0].lastVerdict).toMatchObject({ verdict: 'match' });

    // The test's own table, moved away: the next reconciliation cannot find it.
    await db.pool.query('ALTER TABLE s.batch RENAME TO batch_moved');
    // The config now names a table that is not there: a config mistake, exit 2 (it is still stored as an error verdict).
    expect((await cli(['reconcile', 'orders', '--assume-settled'])).code).toBe(2);
    const after = await cli(['datasets', '--format', 'json']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)[0].lastVerdict).toMatchObject({ verdict: 'error', error: expect.stringContaining('s.batch') });
    expect((await cli(['datasets'])).stdout).toMatch(/^orders .* error all$/m);
  });
});
