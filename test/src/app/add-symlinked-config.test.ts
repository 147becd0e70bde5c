/**
 * `dualrun add` wrote dualrun.yaml through a temporary file renamed over it; with
 * dualrun.yaml a symlink (the config kept in a repository, linked into the working
 * folder) the rename replaced the link by a plain file: the repository's config never
 * got the dataset and the link was gone. The link is followed now (its target is
 * replaced atomically, the link kept), as `report --out` does (src/core/write-output-file.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';

let db: TestDatabase;
let root: string;
beforeAll(async () => {
  db = await createTestDatabase('add_symlink');
  await db.pool.query(`CREATE SCHEMA shop; CREATE TABLE shop.customers (customer_id bigint PRIMARY KEY, name text)`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-add-link-'));
});
afterAll(async () => { await db?.drop(); if (root) fs.rmSync(root, { recursive: true, force: true }); });

describe('dualrun add with a symlinked dualrun.yaml', () => {
  it('adds the dataset to the link\'s target and keeps the link', async () => {
    const repo = path.join(root, 'repo');
    const work = path.join(root, 'work');
    fs.mkdirSync(repo);
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(repo, 'dualrun.yaml'), 'database:\n  url: ${DATABASE_URL}\ndatasets: {}\n');
    fs.symlinkSync(path.join(repo, 'dualrun.yaml'), path.join(work, 'dualrun.yaml'));
    const r = await runCli(['add', 'customers', '--from-table', 'shop.customers', '--no-window'], { cwd: work, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(path.join(work, 'dualrun.yaml')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(repo, 'dualrun.yaml'), 'utf8')).toMatch(/^ {2}customers:$/m);
    expect(fs.readdirSync(repo).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
