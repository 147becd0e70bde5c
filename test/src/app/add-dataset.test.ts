/**
 * From "my table" to a running dual run, as a new user does it in an empty
 * folder: init, `dualrun add` from the source table's catalog, migrate (which
 * creates both outputs), capture, promote to shadow, batch run, stream, and
 * reconcile → match, without editing any file by hand. The toolkit database is
 * a test database reached through DATABASE_URL (init's config reads it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';

let db: TestDatabase;
const dirs: string[] = [];
beforeAll(async () => { db = await createTestDatabase('add'); });
afterAll(async () => {
  await db?.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function emptyFolder(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-add-'));
  dirs.push(d);
  return d;
}

async function sourceTable(schema: string): Promise<void> {
  await db.pool.query(`CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.customers (
      region text NOT NULL,
      customer_id bigint NOT NULL,
      name varchar(80),
      balance numeric(12,2) NOT NULL DEFAULT 0,
      prefs jsonb,
      signed_up_at timestamptz NOT NULL,
      PRIMARY KEY (region, customer_id))`);
}

async function columnsOf(table: string): Promise<string[]> {
  const r = await db.pool.query<{ c: string }>(
    `SELECT attname || ' ' || format_type(atttypid, atttypmod) AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [table]);
  return r.rows.map((x) => x.c);
}

describe('dualrun add: from a source table to a reconciled dual run', () => {
  it('init, add, migrate, capture, promote, batch run, stream, reconcile → match, no file edited by hand', async () => {
    await sourceTable('shop');
    await db.pool.query(`INSERT INTO shop.customers VALUES
      ('eu', 1, 'Ann', 12.50, '{"tier": "gold", "tags": ["a", "b"]}', '2026-11-20 10:00:00+00'),
      ('eu', 2, 'Bob', 0, '[]', '2026-11-20 23:59:59.999999+00'),
      ('us', 1, NULL, 9999999999.99, NULL, '2026-11-20 00:00:00+00'),
      ('us', 7, 'Zoë', -3.10, '{"nested": {"x": 1.5}}', '2026-11-20 12:34:56.789+00'),
      ('us', 9, 'next day', 1, '{}', '2026-11-21 00:00:00+00')`);
    const cwd = emptyFolder();
    const env = { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined };
    const run = async (args: string[], expected = 0) => {
      const r = await runCli(args, { cwd, env });
      expect(r.code, `dualrun ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(expected);
      return r;
    };

    await run(['init']);
    const initText = fs.readFileSync(path.join(cwd, 'dualrun.yaml'), 'utf8');
    const add = await run(['add', 'customers', '--from-table', 'shop.customers']);
    expect(add.stdout).toContain('key (region, customer_id)');
    expect(add.stdout).toContain('day windows on signed_up_at');
    // init's example reads public.orders, which this database does not have: add says so.
    expect(add.stdout).toContain('note: dataset orders reads public.orders, which does not exist');
    const yaml = fs.readFileSync(path.join(cwd, 'dualrun.yaml'), 'utf8');
    // The existing file, comments and alignment included, is kept byte for byte.
    expect(yaml.startsWith(initText)).toBe(true);
    expect(yaml).toMatch(/# customers: scaffolded by `dualrun add customers --from-table shop.customers`/);
    expect(yaml).toMatch(/key: \[region, customer_id\] # primary key of shop.customers/);
    const schema = JSON.parse(fs.readFileSync(path.join(cwd, 'schemas', 'customers.json'), 'utf8'));
    expect(schema.required).toEqual(['region', 'customer_id', 'balance', 'signed_up_at']);
    expect(schema.properties.customer_id.type).toEqual(['integer', 'string']);
    expect(schema.properties.name.type).toEqual(['string', 'null']);
    expect(fs.readFileSync(path.join(cwd, 'sql', 'customers_batch.sql'), 'utf8')).toContain('WHERE "signed_up_at" >= :window_start AND "signed_up_at" < :window_end');

    // A second add refuses and leaves everything as it was.
    const again = await run(['add', 'customers', '--from-table', 'shop.customers'], 2);
    expect(again.stderr).toContain('already in');
    expect(fs.readFileSync(path.join(cwd, 'dualrun.yaml'), 'utf8')).toBe(yaml);

    const migrate = await run(['migrate', '--format', 'json']);
    const created = JSON.parse(migrate.stdout).outputs.filter((o: { action: string }) => o.action === 'created');
    expect(created.map((o: { table: string }) => o.table).sort()).toEqual(['shop.customers_batch', 'shop.customers_stream']);
    expect(await columnsOf('shop.customers_stream')).toEqual([
      'region text', 'customer_id bigint', 'name character varying(80)', 'balance numeric(12,2)', 'prefs jsonb', 'signed_up_at timestamp with time zone',
      '_dr_version bigint', '_dr_source_ts timestamp with time zone',
    ]);
    const pk = await db.pool.query(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'shop.customers_batch'::regclass AND contype = 'p'`);
    expect(pk.rows[0].d).toBe('PRIMARY KEY (region, customer_id)');
    // Migrating again creates nothing and says the outputs exist.
    const second = JSON.parse((await run(['migrate', '--format', 'json'])).stdout);
    expect(second.outputs.filter((o: { dataset: string }) => o.dataset === 'customers').map((o: { action: string }) => o.action)).toEqual(['exists', 'exists']);

    // Plain `capture`, as a new user types it: init's example dataset (its source table does
    // not exist here) is skipped with its reason instead of failing customers.
    const capture = await run(['capture', '--format', 'json']);
    const captured = JSON.parse(capture.stdout);
    expect(captured.installed.map((i: { table: string }) => i.table)).toEqual(['shop.customers']);
    expect(captured.skipped).toEqual([{ dataset: 'orders', reason: expect.stringContaining('source table public.orders does not exist') }]);
    await run(['cutover', 'promote', 'customers', '--reason', 'start the shadow run']);
    const batch = await run(['batch', 'run', 'customers', '--window', '2026-11-20']);
    expect(batch.stdout).toContain('4 rows');
    const stream = await run(['stream', '--until-idle']);
    expect(stream.stdout).toMatch(/customers: 5 applied, 0 dead-lettered/);
    const rec = await run(['reconcile', 'customers', '--window', '2026-11-20', '--format', 'json']);
    const result = JSON.parse(rec.stdout);
    expect(result.verdict).toBe('match');
    expect(result.batch.rows).toBe(4);
    expect(result.stream.rows).toBe(4);
    expect(result.columns).toEqual(['name', 'balance', 'prefs', 'signed_up_at']);

  });

  it('migrate never alters an existing output: a missing key column is exit 2 naming the config path and the column', async () => {
    await sourceTable('shop2');
    const cwd = emptyFolder();
    const env = { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined };
    expect((await runCli(['add', 'people', '--from-table', 'shop2.customers', '--no-window', '--output-schema', 'dw2'], { cwd, env })).code).toBe(0);
    // No dualrun.yaml before: add wrote a fresh one with just this dataset.
    expect(fs.readFileSync(path.join(cwd, 'dualrun.yaml'), 'utf8')).not.toContain('window:');
    await db.pool.query('CREATE SCHEMA dw2; CREATE TABLE dw2.people_batch (region text, name text)');
    const r = await runCli(['migrate'], { cwd, env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('datasets.people.batch.output');
    expect(r.stderr).toContain('missing column customer_id');
    expect(r.stdout).toContain('created stream output dw2.people_stream');
    expect(await columnsOf('dw2.people_batch')).toEqual(['region text', 'name text']);
  });

  it('add refuses what it cannot derive (an unknown table, a table without a key, a name that is no identifier) and writes nothing', async () => {
    const cwd = emptyFolder();
    const env = { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined };
    await db.pool.query('CREATE TABLE public.events_nokey (id int, at timestamptz)');
    const [missing, nokey, injected] = await Promise.all([
      runCli(['add', 'ghosts', '--from-table', 'nowhere.ghosts'], { cwd, env }),
      runCli(['add', 'events', '--from-table', 'events_nokey'], { cwd, env }),
      runCli(['add', 'events', '--from-table', 'public.x; drop table y'], { cwd, env }),
    ]);
    expect([missing.code, nokey.code, injected.code]).toEqual([2, 2, 2]);
    expect(missing.stderr).toContain('table nowhere.ghosts not found');
    expect(nokey.stderr).toContain('--key');
    expect(injected.stderr).toContain('expected schema.table made of identifiers');
    expect(fs.existsSync(path.join(cwd, 'dualrun.yaml'))).toBe(false);
  });
});
