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
import type { DemoFacts } from '../../../src/app/demo/demo-story.ts';
import { DEFECT_DAY_INDEX, DEMO_DAYS } from '../../../src/app/demo/demo-story.ts';
import { runCli } from '../../support/cli.ts';
import { describeKafka, kafkaBrokers } from '../../support/kafka.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';

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

/** A PNG of the report as a browser shows it; DUALRUN_UPDATE_DOCS_IMG=1 also refreshes docs/img/nightly-report.png. */
function screenshotInChromium(file: string): Buffer {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-chromium-'));
  const png = path.join(profile, 'report.png');
  execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`, '--window-size=1280,1800', `--screenshot=${png}`, `file://${file}`],
  { stdio: 'ignore', timeout: 60_000 });
  const bytes = fs.readFileSync(png);
  if (process.env.DUALRUN_UPDATE_DOCS_IMG === '1') fs.copyFileSync(png, path.resolve(import.meta.dirname, '..', '..', '..', 'docs', 'img', 'nightly-report.png'));
  return bytes;
}

/** The report of the demo's night tells the defect's story: the mismatch, the refused promotion, and the fix. */
function assertReportStory(dom: string, f: DemoFacts): void {
  const day = DEMO_DAYS[DEFECT_DAY_INDEX];
  const attrs = (tag: string) => [...dom.matchAll(new RegExp(`<${tag} ([^>]*)>`, 'g'))].map((m) => Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
  const verdicts = attrs('tr').filter((a) => a.class === 'verdict');
  expect(verdicts).toHaveLength(DEMO_DAYS.length + 1); // every night, and the defect day judged again after the fix
  const onDay = verdicts.filter((v) => v['data-window'] === day);
  expect(onDay.map((v) => [v['data-verdict'], v['data-healed'], v['data-superseded']])).toEqual([['mismatch', 'true', 'true'], ['match', 'false', 'false']]);
  // The healed mismatch keeps its samples: the New York orders, off in placed_at.
  const samples = new RegExp(`<table class="samples" data-verdict-id="${onDay[0]['data-verdict-id']}" data-healed="true"[\\s\\S]*?</table>`).exec(dom)?.[0] ?? '';
  expect(samples).toContain(`order_id=${f.defect.expectedKeys[0]}`);
  expect(samples).toContain('placed_at');
  const events = [...dom.matchAll(/<tr class="event" data-kind="(\w+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [m[1], m[2]]);
  expect(events.map(([k]) => k)).toEqual(['promote', 'refused', 'promote', 'rollback', 'promote']);
  // The refusal says who asked, why, and what the gate missed: the streak the defect day broke.
  expect(events[1][1]).toMatch(new RegExp(`promotion REFUSED[\\s\\S]*demo[\\s\\S]*looks fine to me[\\s\\S]*consecutive clean[\\s\\S]*${day}`));
  expect(events[3][1]).toContain('practising the rollback');
  expect(dom).toMatch(/<section class="dataset" id="dataset-orders" data-dataset="orders" data-status="match">/);
  expect(dom).toMatch(/<table class="gate" data-eligible="false"/);
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
    assertReportStory(renderInChromium(facts.report), facts);
    const png = screenshotInChromium(facts.report);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 1800]);
    expect(png.length).toBeGreaterThan(50_000); // a rendered page, not a blank one
    // Markdown and JSON carry the same facts.
    const cfg = path.join(facts.folder, 'dualrun.yaml');
    const json = await runCli(['report', '--config', cfg, '--format', 'json'], { env: { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined } });
    expect(json.code, json.stderr).toBe(0);
    const orders = JSON.parse(json.stdout).datasets[0];
    expect(orders.verdicts.filter((v: { healed: boolean }) => v.healed).map((v: { window: string }) => v.window)).toEqual([DEMO_DAYS[DEFECT_DAY_INDEX]]);
    expect(orders.events.map((e: { kind: string }) => e.kind)).toEqual(['promote', 'refused', 'promote', 'rollback', 'promote']);
    const md = await runCli(['report', '--config', cfg, '--format', 'md'], { env: { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined } });
    expect(md.stdout).toMatch(new RegExp(`\\| ${DEMO_DAYS[DEFECT_DAY_INDEX]} \\| mismatch \\| \\*\\*healed\\*\\* \\|`));
    expect(md.stdout).toMatch(/\| promotion REFUSED \| shadow → streaming \| demo \| looks fine to me \|/);
    expect(md.stdout).toContain('placed_at');
    expect(orders.gate).toMatchObject({ next: 'streaming-only', eligible: false, earliestDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
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
