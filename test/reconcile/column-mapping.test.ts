/**
 * Outputs whose columns are named differently on the two sides
 * (`reconcile.map`) and a column derived on one side (`reconcile.expressions`:
 * integer cents on the batch side against a numeric amount on the stream
 * side). The reconciler finds exactly the seeded differences and names both
 * column names; a bad or hostile expression is a config error (exit 2) naming
 * its config path, and never runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runtimeFor } from './support.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { expressionType } from '../../reconcile/column-expressions.ts';
import { tableRef } from '../../src/core/identifiers.ts';
import { ensureDatasetOutputs } from '../../src/app/db/dataset-outputs.ts';
import { promote } from '../../src/core/cutover/stage-change.ts';

let db: TestDatabase;
let cwd: string;
beforeAll(async () => {
  db = await createTestDatabase('map');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-map-'));
  await db.pool.query(`CREATE SCHEMA legacy; CREATE SCHEMA lake;
    CREATE TABLE legacy.accounts (id int PRIMARY KEY, cust_name text, amount_cents bigint, status text, region text);
    CREATE TABLE lake.accounts (id int PRIMARY KEY, customer_name text, amount numeric(14,2), state text, region text);
    INSERT INTO legacy.accounts SELECT g, 'name ' || g, g * 100 + 5, 'open', 'eu' FROM generate_series(1, 500) g;
    INSERT INTO lake.accounts SELECT g, 'name ' || g, g + 0.05, 'open', 'eu' FROM generate_series(1, 500) g;
    -- the seeded differences: one per renamed column, one in the derived column, one missing row
    UPDATE lake.accounts SET customer_name = 'Name 17' WHERE id = 17;
    UPDATE lake.accounts SET state = 'closed' WHERE id = 99;
    UPDATE lake.accounts SET amount = 250.50 WHERE id = 250;
    DELETE FROM lake.accounts WHERE id = 400;`);
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

function config(batchExpr: string): string {
  return `database:
  url: \${DATABASE_URL}
datasets:
  accounts:
    key: [id]
    batch: { output: legacy.accounts }
    stream: { output: lake.accounts, adopted: true }
    reconcile:
      ignore: [amount_cents]            # only read through the amount expression
      map: { cust_name: customer_name, status: state }
      expressions:
        amount: { batch: ${JSON.stringify(batchExpr)} }
`;
}

function mapped(batchExpr: string): Record<string, unknown> {
  return {
    key: ['id'], batch: { output: 'legacy.accounts' }, stream: { output: 'lake.accounts', adopted: true },
    reconcile: { ignore: ['amount_cents'], map: { cust_name: 'customer_name', status: 'state' }, expressions: { amount: { batch: batchExpr } } },
  };
}

async function reconcile(batchExpr: string) {
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), config(batchExpr));
  return runCli(['reconcile', 'accounts', '--assume-settled', '--format', 'json', '--samples', '10'], { cwd, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } });
}

describe('reconcile.map and reconcile.expressions', () => {
  it('two renamed columns and one derived column: exactly the seeded differences, naming both column names', async () => {
    const r = await reconcile('amount_cents / 100.0');
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.verdict).toBe('mismatch');
    expect(res.columns).toEqual(['cust_name', 'status', 'region', 'amount']);
    expect(res.columnNames).toEqual({
      cust_name: { batch: 'cust_name', stream: 'customer_name' },
      status: { batch: 'status', stream: 'state' },
      amount: { batch: '(amount_cents / 100.0)', stream: 'amount' },
    });
    expect(res.schemaDrift).toEqual([]);
    expect(res.diff).toMatchObject({ missingInStream: 1, missingInBatch: 0, changed: 3, duplicateKeys: 0, columns: { cust_name: 1, status: 1, amount: 1 } });
    const byId = (a: { key: { id: number } }, b: { key: { id: number } }) => a.key.id - b.key.id;
    expect([...res.diff.samples].sort(byId)).toEqual([
      { key: { id: 17 }, kind: 'changed', columns: { cust_name: { batch: 'name 17', stream: 'Name 17' } } },
      { key: { id: 99 }, kind: 'changed', columns: { status: { batch: 'open', stream: 'closed' } } },
      { key: { id: 250 }, kind: 'changed', columns: { amount: { batch: '250.05', stream: '250.5' } } },
      { key: { id: 400 }, kind: 'missing_in_stream' },
    ]);
    const text = await runCli(['reconcile', 'accounts', '--assume-settled'], { cwd, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } });
    expect(text.stdout).toContain('compared as: cust_name = batch cust_name vs stream customer_name; status = batch status vs stream state; amount = batch (amount_cents / 100.0) vs stream amount');
  });

  it('a trailing -- comment in an expression ends with its line: the comparison still holds', async () => {
    const rt = runtimeFor(db, { accounts: mapped('amount_cents / 100.0 -- cents to units') });
    try {
      const [res] = await reconcileDataset(rt, 'accounts', { assumeSettled: true, store: false });
      expect(res.verdict, JSON.stringify(res.error)).toBe('mismatch');
      expect(res.diff?.columns).toEqual({ cust_name: 1, status: 1, amount: 1 });
    } finally {
      await rt.close();
    }
  });

  it('an expression Postgres cannot plan is exit 2 naming datasets.accounts.reconcile.expressions.amount.batch', async () => {
    const r = await reconcile('amount_cents / no_such_column');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('datasets.accounts.reconcile.expressions.amount.batch');
    expect(r.stderr).toContain('no_such_column');
  });

  it('dualrun migrate plans the expressions on the existing outputs too, so a bad one fails the deploy', async () => {
    const bad = runtimeFor(db, { accounts: mapped('amount_cents * nope') });
    const good = runtimeFor(db, { accounts: mapped('amount_cents / 100.0') });
    try {
      const r = await ensureDatasetOutputs(bad);
      expect(r.mismatches).toEqual([expect.objectContaining({ at: 'datasets.accounts.reconcile.expressions.amount.batch', differences: [expect.stringContaining('"nope" does not exist')] })]);
      expect((await ensureDatasetOutputs(good)).mismatches).toEqual([]);
    } finally {
      await Promise.all([bad.close(), good.close()]);
    }
  });

  it('serving from the stream output presents a renamed column under its batch name', async () => {
    await db.pool.query(`CREATE TABLE legacy.people (id int PRIMARY KEY, name text); CREATE TABLE lake.people (id int PRIMARY KEY, full_name text);
      INSERT INTO legacy.people VALUES (1, 'batch'); INSERT INTO lake.people VALUES (1, 'stream');`);
    const rt = runtimeFor(db, { people: { key: ['id'], batch: { output: 'legacy.people' }, stream: { output: 'lake.people' }, reconcile: { map: { name: 'full_name' } }, cutover: { serve: 'public.people' } } });
    try {
      await promote(rt, 'people', { reason: 'shadow' });
      await promote(rt, 'people', { reason: 'serve the stream', force: true });
      expect((await db.pool.query('SELECT id, name FROM public.people')).rows).toEqual([{ id: 1, name: 'stream' }]);
    } finally {
      await rt.close();
    }
  });

  it('an expression that tries to end the statement early never runs: a config error naming its path, and nothing is written', async () => {
    const attempts = [
      'amount_cents) AS v FROM legacy.accounts; DELETE FROM lake.accounts; --',
      'amount_cents) AS v FROM legacy.accounts --',
      'amount_cents) AS v, (SELECT 1) AS w FROM legacy.accounts /*',
      '(SELECT count(*) FROM lake.accounts)) AS v, nextval(\'x\'',
    ];
    const where = 'datasets.accounts.reconcile.expressions.amount.batch';
    for (const a of attempts) {
      await expect(expressionType(db.pool, tableRef('legacy', 'accounts'), a, where, 'dualrun.yaml'), a)
        .rejects.toMatchObject({ code: 'DUALRUN_CONFIG_INVALID', message: expect.stringContaining(where) });
    }
    // Planning never evaluates: a function with side effects does not run (LIMIT 0, in a READ ONLY transaction).
    await db.pool.query('CREATE SEQUENCE public.x');
    await expect(expressionType(db.pool, tableRef('legacy', 'accounts'), "nextval('public.x')", where, null)).resolves.toBe('int8');
    expect((await db.pool.query('SELECT last_value, is_called FROM public.x')).rows[0].is_called).toBe(false);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM lake.accounts')).rows[0].n).toBe(499);
  });
});
