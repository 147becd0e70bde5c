/**
 * `dualrun add` on a dualrun.yaml written as JSON (JSON is YAML; generators and scripts write it
 * that way): the entry must land in the file, which stays valid and stays JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase('addjson');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-addjson-'));
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dualrun add on a JSON dualrun.yaml', () => {
  it("adds the dataset (a block entry inside the JSON's flow mapping failed: 'Nested mappings are not allowed in compact mappings')", async () => {
    await db.pool.query(`CREATE TABLE public.orders (id bigint PRIMARY KEY, day date NOT NULL, amount numeric(12,2))`);
    const config = path.join(dir, 'dualrun.yaml');
    fs.writeFileSync(config, JSON.stringify({ database: { url: db.url }, datasets: {} }));
    const r = await runCli(['--config', config, 'add', 'orders', '--from-table', 'public.orders'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const written = JSON.parse(fs.readFileSync(config, 'utf8'));
    expect(written.datasets.orders).toMatchObject({ key: ['id'], window: { column: 'day' }, batch: { output: 'public.orders_batch' } });
    expect(written.database.url).toBe(db.url);
  });
});
