/**
 * The commands as a user runs them (real CLI in a child process, real Postgres):
 * `dualrun reconcile` JSON shape and exit codes, `dualrun report` in every
 * format, and the HTML report rendered by headless Chromium.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase } from './support.ts';

let db: TestDatabase;
let dir: string;

const SETUP = `
CREATE SCHEMA s;
CREATE TABLE s.orders_batch (order_id int PRIMARY KEY, order_date date, amount numeric(12,2), status text);
CREATE TABLE s.orders_stream (order_id int PRIMARY KEY, order_date date, amount numeric, status text, _dr_source_ts timestamptz);
INSERT INTO s.orders_batch SELECT i, DATE '2026-11-19' + (i % 2), i, 'new' FROM generate_series(1, 100) i;
INSERT INTO s.orders_stream SELECT order_id, order_date, amount, status FROM s.orders_batch;
DELETE FROM s.orders_stream WHERE order_id = 43;
UPDATE s.orders_stream SET amount = 7.5 WHERE order_id = 9;
CREATE TABLE s.users_batch (user_id text PRIMARY KEY, name text);
CREATE TABLE s.users_stream (user_id text PRIMARY KEY, name text);
INSERT INTO s.users_batch VALUES ('u1', 'Ann <b>&amp;</b>'), ('u2', 'Bob');
INSERT INTO s.users_stream VALUES ('u1', 'Ann <b>&amp;</b>'), ('u2', 'Bob');
CREATE TABLE s.empty_batch (id int PRIMARY KEY);
CREATE TABLE s.empty_stream (id int PRIMARY KEY);
`;

const CONFIG = (url: string) => `
database:
  url: ${url}
datasets:
  orders:
    key: [order_id]
    window: { column: order_date, grain: day }
    batch: { output: s.orders_batch }
    stream: { output: s.orders_stream, source: { topic: shop.orders, format: json } }
  users:
    key: [user_id]
    batch: { output: s.users_batch }
    stream: { output: s.users_stream, source: { topic: shop.users, format: json } }
  quiet:
    key: [id]
    batch: { output: s.empty_batch }
    stream: { output: s.empty_stream, source: { topic: shop.quiet, format: json } }
`;

const cli = (args: string[]) => runCli(args, { cwd: dir, env: { DUALRUN_CONFIG: undefined, DATABASE_URL: undefined } });

beforeAll(async () => {
  db = await freshDatabase();
  await db.pool.query(SETUP);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-rc-cli-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), CONFIG(db.url));
});
afterAll(async () => { await db?.drop(); fs.rmSync(dir, { recursive: true, force: true }); });

describe('dualrun reconcile (CLI)', () => {
  it('--format json: DESIGN shape, exit 1 on mismatch', async () => {
    const r = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--format', 'json', '--assume-settled']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({
      dataset: 'orders', window: '2026-11-20', verdict: 'mismatch',
      batch: { rows: 50 }, stream: { rows: 49 },
      diff: {
        missingInStream: 1, missingInBatch: 0, changed: 1, duplicateKeys: 0, columns: { amount: 1 },
        samples: [
          { key: { order_id: 43 }, kind: 'missing_in_stream' },
          { key: { order_id: 9 }, kind: 'changed', columns: { amount: { batch: '9', stream: '7.5' } } },
        ],
      },
    });
    expect(o.batch.checksum).toMatch(/^[0-9a-f]{16}$/);
  });

  it('--from/--to gives an array; a whole-table match exits 0 with window null; pending exits 4', async () => {
    const range = await cli(['reconcile', 'orders', '--from', '2026-11-19', '--to', '2026-11-20', '--format', 'json', '--assume-settled']);
    expect(range.code).toBe(1);
    expect(JSON.parse(range.stdout).map((x: { window: string; verdict: string }) => [x.window, x.verdict])).toEqual([['2026-11-19', 'match'], ['2026-11-20', 'mismatch']]);
    const users = await cli(['reconcile', 'users', '--format', 'json', '--assume-settled']);
    expect(users.code).toBe(0);
    expect(JSON.parse(users.stdout)).toMatchObject({ window: null, verdict: 'match', diff: { samples: [] } });
    const pending = await cli(['reconcile', 'users', '--format', 'json']);
    expect(pending.code).toBe(4);
    expect(JSON.parse(pending.stdout)).toMatchObject({ window: null, verdict: 'pending' });
  });

  it('text and md formats name the differing keys; bad options exit 2', async () => {
    const text = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('orders 2026-11-20: MISMATCH');
    expect(text.stdout).toMatch(/order_id=43\s+missing_in_stream/);
    const md = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled', '--format', 'md']);
    expect(md.stdout).toContain('| order_id=9 | changed | amount: "9" → "7.5" |');
    expect((await cli(['reconcile', 'orders', '--format', 'xml'])).code).toBe(2);
    expect((await cli(['reconcile', 'users', '--window', '2026-11-20'])).code).toBe(2);
  });
});

describe('dualrun report (CLI)', () => {
  const today = new Date().toISOString().slice(0, 10);

  it('json for alerting, Markdown for people; exit 1 when a dataset mismatched that night', async () => {
    const j = await cli(['report', '--format', 'json']);
    expect(j.code).toBe(1);
    const rep = JSON.parse(j.stdout);
    expect(rep.date).toBe(today);
    expect(rep.status).toBe('mismatch');
    expect(rep.datasets.map((d: { dataset: string; status: string }) => [d.dataset, d.status])).toEqual([['orders', 'mismatch'], ['users', 'pending'], ['quiet', 'none']]);
    expect(rep.datasets[0].history).toHaveLength(14);
    const md = await cli(['report', '--format', 'md']);
    expect(md.stdout).toContain('# dualrun nightly report');
    expect(md.stdout).toMatch(/\| orders \| batch \| mismatch \|/);
    const old = await cli(['report', '--format', 'json', '--date', '2001-01-01']);
    expect(old.code).toBe(0);
    expect(JSON.parse(old.stdout).status).toBe('none');
    expect((await cli(['report', '--date', 'yesterday'])).code).toBe(2);
  });

  it('a dataset with an adopted stream output is reported, not a config error (report exited 2: "dualrun does not stream or capture it")', async () => {
    const adopted = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-rc-adopted-'));
    fs.writeFileSync(path.join(adopted, 'dualrun.yaml'), `
database:
  url: ${db.url}
datasets:
  users_adopted:
    key: [user_id]
    batch: { output: s.users_batch }
    stream: { output: s.users_stream, adopted: true }
`);
    const r = await runCli(['report', '--format', 'json'], { cwd: adopted, env: { DUALRUN_CONFIG: undefined, DATABASE_URL: undefined } });
    expect(r.stderr).not.toContain('DUALRUN_CONFIG_INVALID');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.datasets.map((d: { dataset: string }) => d.dataset)).toEqual(['users_adopted']);
    expect(rep.datasets[0].stream).toMatchObject({ watermark: null, partitions: 0 });
  });

  it('html: self-contained, renders in headless Chromium and shows every dataset', async () => {
    const file = path.join(dir, 'reports', 'nightly.html');
    const r = await cli(['report', '--format', 'html', '--out', 'reports/nightly.html']);
    expect(r.code).toBe(1);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/<style|<svg|<img|<link/); // inline styles only: mail clients drop style blocks
    expect(html).not.toContain('<b>&amp;</b>');
    const chromium = spawnSync('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', `--user-data-dir=${fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-chromium-'))}`, '--dump-dom', `file://${file}`,
    ], { encoding: 'utf8', timeout: 60_000 });
    expect(chromium.status, chromium.stderr).toBe(0);
    const dom = chromium.stdout;
    for (const name of ['orders', 'users', 'quiet']) expect(dom).toContain(`data-dataset="${name}"`);
    expect(dom).toMatch(/<section class="dataset" id="dataset-orders" data-dataset="orders" data-status="mismatch">/);
    expect(dom).toContain('order_id=43');
    expect((dom.match(/<table class="trend"/g) ?? []).length).toBeGreaterThanOrEqual(6);
  });
});
