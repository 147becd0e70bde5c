/**
 * `dualrun demo` end to end, as a newcomer runs it: a real embedded Postgres in a
 * fresh folder, every part of dualrun driven through its real commands. The story's
 * facts are asserted, not just its exit code.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DemoFacts } from '../../src/demo/demo-story.ts';
import { DEFECT_DAY_INDEX, DEMO_DAYS } from '../../src/demo/demo-story.ts';
import { runCli } from '../support/cli.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

/** A user's database holding schemas with the demo's names, with tables, rows, the append-only audit and a view. */
async function userDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('demo_user');
  await db.pool.query(`
    CREATE SCHEMA shop; CREATE SCHEMA analytics; CREATE SCHEMA dualrun;
    CREATE TABLE shop.orders (order_id bigint PRIMARY KEY, note text);
    INSERT INTO shop.orders SELECT g, 'user order ' || g FROM generate_series(1, 250) g;
    CREATE TABLE analytics.orders_batch (id int); INSERT INTO analytics.orders_batch SELECT generate_series(1, 40);
    CREATE VIEW analytics.orders AS SELECT * FROM shop.orders;
    CREATE TABLE dualrun.stages (dataset text PRIMARY KEY, stage text); INSERT INTO dualrun.stages VALUES ('payments', 'streaming');
    CREATE TABLE dualrun.cutover_audit (id int, note text); INSERT INTO dualrun.cutover_audit VALUES (1, 'kept for the auditors');`);
  return db;
}

/** Every object of the user's schemas, with the rows each table holds. */
async function userObjects(db: TestDatabase): Promise<string[]> {
  const r = await db.pool.query<{ name: string; kind: string }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('shop', 'analytics', 'dualrun') AND c.relkind IN ('r', 'v') ORDER BY 1`);
  const out: string[] = [];
  for (const o of r.rows) {
    const rows = o.kind === 'r' ? (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${o.name}`)).rows[0].n : '-';
    out.push(`${o.name} ${o.kind} ${rows}`);
  }
  return out;
}

async function runDemo(env: Record<string, string | undefined>): Promise<DemoFacts & { seconds: number }> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-demo-'));
  fs.chmodSync(cwd, 0o755);
  const r = await runCli(['demo', '--format', 'json'], { cwd, env: { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined, ...env }, timeoutMs: 170_000 });
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  const facts = JSON.parse(r.stdout) as DemoFacts & { seconds: number };
  expect(facts.folder).toBe(path.join(cwd, 'dualrun-demo'));
  return facts;
}

function assertStory(f: DemoFacts): void {
  const defectDay = DEMO_DAYS[DEFECT_DAY_INDEX];
  // The defect is caught on its day, with exactly the affected keys and column.
  expect(f.nights.find((n) => n.day === defectDay)).toMatchObject({ verdict: 'mismatch', code: 1 });
  expect(f.defect.expectedKeys.length).toBeGreaterThan(50);
  expect(f.defect.foundKeys).toEqual(f.defect.expectedKeys);
  expect(f.defect.kinds).toEqual(['changed']);
  expect(f.defect.columns).toEqual(['placed_at']);
  // Every other night is clean; the replay with the fixed transform cleans the defect day.
  expect(f.nights.filter((n) => n.day !== defectDay).map((n) => n.verdict)).toEqual(DEMO_DAYS.filter((d) => d !== defectDay).map(() => 'match'));
  expect(f.afterReplay).toEqual({ day: defectDay, verdict: 'match' });
  // The gate refuses too early, then grants; the view follows every change.
  expect(f.promotionRefused.code).toBe(1);
  expect(f.promotionRefused.message).toMatch(/refused/);
  expect(f.promotionGranted).toEqual({ code: 0, stage: 'streaming', servedFrom: 'analytics.orders_stream' });
  expect(f.rollback).toEqual({ code: 0, stage: 'shadow', servedFrom: 'analytics.orders_batch' });
  expect(f.repromotion).toEqual({ code: 0, stage: 'streaming', servedFrom: 'analytics.orders_stream' });
  expect(f.steps.every((s) => s.command.startsWith('dualrun '))).toBe(true);
}

function renderInChromium(file: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-chromium-'));
  return execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
}

describe('dualrun demo', () => {
  it('never touches a database it did not create: with DATABASE_URL set it runs on its own embedded Postgres (the demo dropped the user\'s schemas); tells the whole story and writes a report that renders', async () => {
    const user = await userDatabase();
    const before = await userObjects(user);
    expect(before).toEqual(['analytics.orders v -', 'analytics.orders_batch r 40', 'dualrun.cutover_audit r 1', 'dualrun.stages r 1', 'shop.orders r 250']);
    let facts: DemoFacts;
    try {
      facts = await runDemo({ KAFKA_BROKERS: undefined, DATABASE_URL: user.url });
      expect(await userObjects(user)).toEqual(before);
    } finally {
      await user.drop();
    }
    assertStory(facts);
    // Its own embedded Postgres, in the folder it marked as its own.
    expect(fs.existsSync(path.join(facts.folder, '.dualrun'))).toBe(true);
    expect(fs.existsSync(path.join(facts.folder, '.dualrun-demo'))).toBe(true);
    expect(fs.existsSync(facts.report)).toBe(true);
    const dom = renderInChromium(facts.report);
    expect(dom).toContain('orders');
    expect(dom).toMatch(/<svg/);
  }, 180_000);
});

describe('dualrun demo folder', () => {
  it('refuses (exit 2) a --dir it did not make, leaving its files alone (the demo overwrote what it found)', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-demo-foreign-'));
    fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), 'datasets: {}  # the user\'s own config\n');
    const r = await runCli(['demo', '--dir', cwd], { cwd, env: { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`DUALRUN_USAGE: dualrun demo: --dir ${cwd} exists, is not empty and was not made by \`dualrun demo\``);
    expect(fs.readdirSync(cwd)).toEqual(['dualrun.yaml']);
    expect(fs.readFileSync(path.join(cwd, 'dualrun.yaml'), 'utf8')).toBe('datasets: {}  # the user\'s own config\n');
  });
});

describeKafka('dualrun demo with Kafka', () => {
  it('tells the same story through capture relayed to Kafka', async () => {
    assertStory(await runDemo({ KAFKA_BROKERS: kafkaBrokers().join(',') }));
  }, 180_000);
});
