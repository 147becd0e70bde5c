/**
 * The CLI skeleton as a user meets it: help, init → migrate → datasets on a real
 * embedded Postgres in an empty folder, concurrent migrations, config errors
 * (exit 2), unreachable databases (exit 3) and exit codes that survive shutdown.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireEmbeddedPostgres } from '../../../src/core/db/embedded-postgres.ts';
import { listMigrations } from '../../../src/core/db/migrate.ts';
import { runCli } from '../../support/cli.ts';

const dirs: string[] = [];
function emptyFolder(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-cli-'));
  fs.chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function postmasterRunning(folder: string): boolean {
  const pidFile = path.join(folder, '.dualrun', 'data', 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return false;
  try { process.kill(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]), 0); return true; } catch { return false; }
}

const noDbEnv = { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined };

describe('dualrun CLI foundation', () => {
  it('--help lists every command of the design', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['init', 'migrate', 'datasets', 'batch', 'stream', 'capture', 'reconcile', 'report', 'cutover', 'schedule', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
    const batch = await runCli(['batch', '--help']);
    expect(batch.stdout).toMatch(/run \[options\] <dataset>/);
    expect(batch.stdout).toMatch(/adopt \[options\] <dataset>/);
    const cutover = await runCli(['cutover', '--help']);
    for (const c of ['status', 'promote', 'rollback', 'history']) expect(cutover.stdout).toContain(c);
    const reconcile = await runCli(['reconcile', '--help']);
    for (const o of ['--window', '--from', '--to', '--format', '--samples', '--assume-settled', 'Example']) expect(reconcile.stdout).toContain(o);
  });

  it('unknown commands and options exit 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['datasets', '--no-such-flag'])).code).toBe(2);
  });

  it('init, migrate and datasets work in an empty folder on embedded Postgres; migrate again changes nothing', async () => {
    const cwd = emptyFolder();
    const env = noDbEnv;
    const init = await runCli(['init'], { cwd, env });
    expect(init.code, init.stderr).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'dualrun.yaml'))).toBe(true);
    const first = await runCli(['migrate', '--format', 'json'], { cwd, env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).applied.length).toBe(listMigrations().length);
    const again = await runCli(['migrate', '--format', 'json'], { cwd, env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).applied).toEqual([]);
    const ds = await runCli(['datasets', '--format', 'json'], { cwd, env });
    expect(ds.code, ds.stderr).toBe(0);
    expect(JSON.parse(ds.stdout)).toEqual([expect.objectContaining({ dataset: 'orders', stage: 'batch', lastBatchRun: null })]);
    // The last process out stops the embedded server; the data stays for the next run.
    expect(postmasterRunning(cwd)).toBe(false);
    expect(fs.existsSync(path.join(cwd, '.dualrun', 'data', 'PG_VERSION'))).toBe(true);
    expect((await runCli(['init'], { cwd, env })).code).toBe(2);
  });

  it('two migrations at once apply each migration exactly once', async () => {
    const cwd = emptyFolder();
    await runCli(['init'], { cwd, env: noDbEnv });
    const [a, b] = await Promise.all([runCli(['migrate', '--format', 'json'], { cwd, env: noDbEnv }), runCli(['migrate', '--format', 'json'], { cwd, env: noDbEnv })]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const applied = [...JSON.parse(a.stdout).applied, ...JSON.parse(b.stdout).applied].map((m: { version: number }) => m.version).sort((x, y) => x - y);
    expect(applied).toEqual(listMigrations().map((m) => m.version));
    const h = await acquireEmbeddedPostgres({ dir: path.join(cwd, '.dualrun') });
    const c = new pg.Client({ connectionString: h.url });
    await c.connect();
    const rows = (await c.query('SELECT version, count(*)::int AS n FROM dualrun.schema_migrations GROUP BY version')).rows;
    await c.end();
    await h.release();
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(rows.length).toBe(listMigrations().length);
  });

  it('an invalid config exits 2 naming the file and the field', async () => {
    const cwd = emptyFolder();
    fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), 'datasets:\n  orders:\n    key: [order_id]\n    batch: { output: "orders; drop table x" }\n    stream: { output: s.o, source: { topic: t } }\n');
    const r = await runCli(['datasets'], { cwd, env: noDbEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path.join(cwd, 'dualrun.yaml'));
    expect(r.stderr).toContain('datasets.orders.batch.output');
    const json = await runCli(['datasets', '--format', 'json'], { cwd, env: noDbEnv });
    expect(JSON.parse(json.stdout).error.code).toBe('DUALRUN_CONFIG_INVALID');
  });

  it('no config found exits 2 and says where it looked', async () => {
    const r = await runCli(['datasets'], { cwd: emptyFolder(), env: noDbEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DUALRUN_CONFIG');
    expect(r.stderr).toContain('./dualrun.yaml');
  });

  it('DATABASE_URL at a closed port exits 3, names host and port, never the password', async () => {
    const cwd = emptyFolder();
    await runCli(['init'], { cwd, env: noDbEnv });
    const port = await closedPort();
    const r = await runCli(['datasets'], { cwd, env: { DATABASE_URL: `postgres://etl:TopSecret-42@127.0.0.1:${port}/dw` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).toContain('DUALRUN_DB_UNREACHABLE');
    expect(r.stderr + r.stdout).not.toContain('TopSecret-42');
  });

  it('regression: a failing command on embedded Postgres keeps its exit code through shutdown', async () => {
    // embedded-postgres' own exit hook turns exit codes into 0; ours must survive.
    const cwd = emptyFolder();
    await runCli(['init'], { cwd, env: noDbEnv });
    const h = await acquireEmbeddedPostgres({ dir: path.join(cwd, '.dualrun') });
    const c = new pg.Client({ connectionString: h.url });
    await c.connect();
    await c.query('CREATE SCHEMA dualrun; CREATE TABLE dualrun.stages (x int)');
    await c.end();
    await h.release();
    const r = await runCli(['migrate'], { cwd, env: noDbEnv });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('DUALRUN_MIGRATION_FAILED');
    expect(r.stderr).toContain('SQLSTATE 42P07');
    expect(postmasterRunning(cwd)).toBe(false);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
