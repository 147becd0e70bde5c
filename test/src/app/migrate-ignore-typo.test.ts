/**
 * Regression: `dualrun migrate` checked existing outputs for the columns the config names (key,
 * window, reconcile.columns, reconcile.map, watermark) but not reconcile.ignore or the keys of
 * reconcile.tolerance, so `ignore: [loadedat]` passed the deploy with exit 0 and silently ignored
 * nothing. Such names are reported now (exit 2, the field, the name and the nearest column).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { runCli } from '../../support/cli.ts';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase('mig_ignore');
  await db.pool.query(`CREATE SCHEMA mi;
    CREATE TABLE mi.b (id int PRIMARY KEY, amount numeric(12,2), loaded_at timestamptz);
    CREATE TABLE mi.s (id int PRIMARY KEY, amount numeric(12,2), loaded_at timestamptz, _dr_version bigint, _dr_source_ts timestamptz);`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-mig-ignore-'));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const migrate = (reconcile: Record<string, unknown>) => {
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({
    database: { url: db.url },
    datasets: { orders: { key: ['id'], batch: { output: 'mi.b' }, stream: { output: 'mi.s', source: { topic: 't', format: 'json' } }, reconcile } },
  }));
  return runCli(['--config', path.join(dir, 'dualrun.yaml'), 'migrate'], { cwd: dir });
};

describe('migrate and reconcile.ignore / reconcile.tolerance names no output has', () => {
  it('a misspelt ignore entry and tolerance key: exit 2 naming each field, name and nearest column', async () => {
    const r = await migrate({ ignore: ['loadedat'], tolerance: { amont: 0.01 } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('dualrun: DUALRUN_CONFIG_INVALID: datasets.orders.reconcile.ignore: loadedat is a column of neither batch.output mi.b nor stream.output mi.s, so nothing is ignored (did you mean loaded_at?)');
    expect(r.stderr).toContain('dualrun: DUALRUN_CONFIG_INVALID: datasets.orders.reconcile.tolerance: amont is not a column of batch.output mi.b (tolerances name columns by their batch name), so no tolerance applies (did you mean amount?)');
  });

  it('names the outputs have: exit 0', async () => {
    const r = await migrate({ ignore: ['loaded_at'], tolerance: { amount: 0.01 } });
    expect(r.code, r.stderr).toBe(0);
  });
});
