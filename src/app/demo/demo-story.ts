/**
 * `dualrun demo`: the migration story of one dataset, told as the commands a user
 * would type and run as exactly those commands (in-process, same code paths):
 * shadow run of a managed legacy batch and a streaming path through built-in
 * capture, nightly reconciliation, a time-zone defect caught with exact keys, the
 * fix and a replay, a promotion refused then granted, the serving view switched,
 * a rollback and a re-promotion, and the HTML report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packagePath } from '../../core/package-path.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import type { DualrunConfig } from '../../core/config/types.ts';
import { DualrunError } from '../../core/errors.ts';
import type { Pool } from '../../core/db/connect.ts';
import type { Logger } from '../../core/logger.ts';
import { createRuntime, type Runtime } from '../../core/runtime.ts';
import { readStage } from '../../core/stages.ts';
import { runCliStep, type StepResult } from './cli-step.ts';
import { newYorkOrdersOfDay, simulateDay } from './shop-simulation.ts';

const EXAMPLE_DIR = packagePath('examples', 'shop');
export const DEMO_DAYS = ['2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07'];
export const DEFECT_DAY_INDEX = 2;

export interface DemoFacts {
  folder: string;
  report: string;
  nights: { day: string; verdict: string; code: number; missingInStream: number; missingInBatch: number; changed: number }[];
  defect: { day: string; expectedKeys: number[]; foundKeys: number[]; kinds: string[]; columns: string[] };
  afterReplay: { day: string; verdict: string };
  promotionRefused: { code: number; message: string };
  promotionGranted: { code: number; stage: string; servedFrom: string };
  rollback: { code: number; stage: string; servedFrom: string };
  repromotion: { code: number; stage: string; servedFrom: string };
  steps: { command: string; code: number }[];
}

export interface DemoOptions { folder: string; log: Logger; narrate: (line: string) => void; kafkaBrokers: string[] }

export async function runDemo(opts: DemoOptions): Promise<DemoFacts> {
  const { folder, narrate } = opts;
  const configPath = prepareFolder(folder, opts.kafkaBrokers);
  const steps: DemoFacts['steps'] = [];
  const step = async (args: string[], expect: number[] = [0]): Promise<StepResult> => {
    const r = await runCliStep(args, configPath);
    steps.push({ command: `dualrun ${args.join(' ')}`, code: r.code });
    narrate(`  $ dualrun ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}   → exit ${r.code}`);
    if (!expect.includes(r.code)) throw new Error(`demo step failed: dualrun ${args.join(' ')} exited ${r.code}\n${r.stdout}`);
    return r;
  };
  const config = loadConfig({ configPath });
  assertOwnDatabase(config, folder);
  const rt = createRuntime({ config, log: opts.log });
  try {
    narrate(`The demo runs on its own embedded Postgres in ${config.database.embedded.dir} (DATABASE_URL and database.url are never used by it).`);
    await resetSchemas(await rt.pool(null));
    const db = await rt.db();
    await db.query(fs.readFileSync(path.join(EXAMPLE_DIR, 'sql', 'setup.sql'), 'utf8'));
    narrate('Setting up: a shop whose orders (Berlin and New York stores) are loaded nightly by a legacy SQL job.');
    await step(['migrate']);
    // With Kafka, capture also relays the changelog to the topic (until idle here; a daemon in production).
    const capture = opts.kafkaBrokers.length > 0 ? ['capture', '--dataset', 'orders', '--until-idle'] : ['capture', '--dataset', 'orders'];
    await step(capture);
    await step(['cutover', 'promote', 'orders', '--reason', 'start the shadow run', '--actor', 'demo']);
    narrate('Stage 1.5: both paths run side by side; every night the reconciler compares them.');
    const facts = await tellNights(rt, db, step, narrate, configPath, opts.kafkaBrokers.length > 0 ? capture : null);
    const report = path.join(folder, 'report.html');
    await step(['report', '--format', 'html', '--out', report]);
    narrate(`The nightly report: ${report}`);
    return { folder, report, steps, ...facts };
  } finally {
    await rt.close();
  }
}

type Step = (args: string[], expect?: number[]) => Promise<StepResult>;

async function tellNights(rt: Runtime, db: Pool, step: Step, narrate: (l: string) => void, configPath: string, relay: string[] | null) {
  const nights: DemoFacts['nights'] = [];
  let defect: DemoFacts['defect'] | undefined;
  let afterReplay: DemoFacts['afterReplay'] | undefined;
  let promotionRefused: DemoFacts['promotionRefused'] | undefined;
  let promotionGranted: DemoFacts['promotionGranted'] | undefined;
  for (const [i, day] of DEMO_DAYS.entries()) {
    const activity = await simulateDay(db, day, i);
    narrate(`\nNight of ${day}: ${activity.inserted} orders placed, ${activity.updated} updates, ${activity.deleted} cancellations.`);
    if (i === DEFECT_DAY_INDEX) {
      setTransform(configPath, 'transforms/orders-tz-bug.ts');
      narrate('  (a new version of the streaming transform is deployed today; it uses fixed UTC offsets instead of the time-zone database)');
    }
    if (relay) await step(relay);
    await step(['stream', '--dataset', 'orders', '--until-idle']);
    await step(['batch', 'run', 'orders', '--window', day]);
    const verdict = await reconcileNight(step, day, nights);
    if (i === DEFECT_DAY_INDEX && verdict.verdict === 'mismatch') {
      defect = await describeDefect(db, day, i, verdict.raw);
      const exact = defect.foundKeys.join() === defect.expectedKeys.join();
      narrate(`  mismatch: ${defect.foundKeys.length} keys differ (${defect.kinds.join(', ')}; columns ${defect.columns.join(', ')})${exact ? ' — exactly the New York orders of the day' : ''}, e.g. order ${defect.foundKeys[0]}.`);
      const refused = await step(['cutover', 'promote', 'orders', '--reason', 'looks fine to me', '--actor', 'demo'], [1]);
      promotionRefused = { code: refused.code, message: refused.stdout.trim() };
      narrate(`  promotion refused: ${promotionRefused.message.split('\n')[0]}`);
      setTransform(configPath, 'transforms/orders.ts');
      narrate('  the transform is fixed and the stream output rebuilt by a replay from the beginning:');
      await step(['stream', '--dataset', 'orders', '--from-beginning', '--reset-output', '--until-idle']);
      const again = await reconcileNight(step, day, []);
      afterReplay = { day, verdict: again.verdict };
      narrate(`  after the replay, ${day} is a ${again.verdict}.`);
    }
    if (i === DEMO_DAYS.length - 2) {
      const granted = await step(['cutover', 'promote', 'orders', '--reason', '3 clean nights after the tz fix', '--actor', 'demo']);
      promotionGranted = { code: granted.code, ...(await serving(rt, db)) };
      narrate(`  promotion granted: orders is now ${promotionGranted.stage}, readers of analytics.orders see ${promotionGranted.servedFrom}.`);
    }
  }
  const rb = await step(['cutover', 'rollback', 'orders', '--to', 'shadow', '--reason', 'practising the rollback', '--actor', 'demo']);
  const rollback = { code: rb.code, ...(await serving(rt, db)) };
  narrate(`\nRollback: orders is ${rollback.stage} again; analytics.orders reads ${rollback.servedFrom} (one transaction).`);
  const rp = await step(['cutover', 'promote', 'orders', '--reason', 'rollback drill done', '--actor', 'demo']);
  const repromotion = { code: rp.code, ...(await serving(rt, db)) };
  narrate(`Re-promoted: ${repromotion.stage}, serving ${repromotion.servedFrom}.`);
  await step(['cutover', 'history', 'orders']);
  if (!defect || !afterReplay || !promotionRefused || !promotionGranted) throw new Error('the demo story did not unfold as expected (see the steps above)');
  return { nights, defect, afterReplay, promotionRefused, promotionGranted, rollback, repromotion };
}

interface NightVerdict { verdict: string; raw: Record<string, any> }

async function reconcileNight(step: Step, day: string, nights: DemoFacts['nights']): Promise<NightVerdict> {
  const r = await step(['reconcile', 'orders', '--window', day, '--format', 'json', '--samples', '1000'], [0, 1]);
  const raw = JSON.parse(r.stdout) as Record<string, any>;
  const d = raw.diff ?? {};
  nights.push({ day, verdict: raw.verdict, code: r.code, missingInStream: d.missingInStream ?? 0, missingInBatch: d.missingInBatch ?? 0, changed: d.changed ?? 0 });
  return { verdict: raw.verdict, raw };
}

async function describeDefect(db: Pool, day: string, dayIndex: number, raw: Record<string, any>): Promise<DemoFacts['defect']> {
  const samples: { key: Record<string, unknown>; kind: string; columns?: Record<string, unknown> }[] = raw.diff?.samples ?? [];
  return {
    day,
    expectedKeys: await newYorkOrdersOfDay(db, dayIndex),
    foundKeys: [...new Set(samples.map((s) => Number(s.key.order_id)))].sort((a, b) => a - b),
    kinds: [...new Set(samples.map((s) => s.kind))].sort(),
    columns: [...new Set(samples.flatMap((s) => Object.keys(s.columns ?? {})))].sort(),
  };
}

async function serving(rt: Runtime, db: Pool): Promise<{ stage: string; servedFrom: string }> {
  const ds = rt.dataset('orders');
  const stage = await readStage(db, ds.name);
  const def = (await db.query<{ d: string }>(`SELECT pg_get_viewdef($1::regclass) AS d`, [ds.cutover.serve!.text])).rows[0].d;
  return { stage, servedFrom: def.includes(ds.stream.output.name) ? ds.stream.output.text : def.includes(ds.batch.output.name) ? ds.batch.output.text : 'unknown' };
}

/** Written into the demo folder: only a folder carrying it (or an empty one) is the demo's to overwrite. */
export const DEMO_MARKER = '.dualrun-demo';

function prepareFolder(folder: string, kafkaBrokers: string[]): string {
  assertDemoFolder(folder);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, DEMO_MARKER), `${JSON.stringify({ createdBy: 'dualrun demo', at: new Date().toISOString() })}\n`);
  fs.cpSync(EXAMPLE_DIR, folder, { recursive: true });
  const configPath = path.join(folder, 'dualrun.yaml');
  if (kafkaBrokers.length > 0) {
    const text = fs.readFileSync(configPath, 'utf8').replace('\ndatasets:', `\nkafka:\n  brokers: ${JSON.stringify(kafkaBrokers)}\n  groupPrefix: dualrun-demo-${Date.now()}\n\ndatasets:`);
    fs.writeFileSync(configPath, text.replace('source: { table: shop.orders', `source: { table: shop.orders, topic: dualrun-demo.orders.${Date.now()}`));
  }
  return configPath;
}

function setTransform(configPath: string, file: string): void {
  const text = fs.readFileSync(configPath, 'utf8');
  fs.writeFileSync(configPath, text.replace(/transform: transforms\/[a-z-]+\.ts/, `transform: ${file}`));
}

/** The demo overwrites its folder's files: refuse a folder that holds anything it did not make. */
function assertDemoFolder(folder: string): void {
  if (!fs.existsSync(folder)) return;
  if (!fs.statSync(folder).isDirectory()) throw refuse(`--dir ${folder} exists and is not a folder`);
  if (fs.readdirSync(folder).length === 0 || fs.existsSync(path.join(folder, DEMO_MARKER))) return;
  throw refuse(`--dir ${folder} exists, is not empty and was not made by \`dualrun demo\` (no ${DEMO_MARKER} in it); ` +
    'the demo writes its config and its own embedded Postgres there and resets them on every run, so it only uses a new or empty folder, or one it made before');
}

/**
 * The demo resets its schemas on every run, so it may only ever run on the
 * embedded Postgres inside its own folder, never on a configured server.
 */
function assertOwnDatabase(config: DualrunConfig, folder: string): void {
  const inside = path.relative(folder, config.database.embedded.dir);
  if (config.database.url !== null || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw refuse(`the demo config in ${folder} names a database other than its own embedded Postgres in ${path.join(folder, '.dualrun')}; nothing was touched`);
  }
}

function refuse(message: string): DualrunError {
  return new DualrunError('DUALRUN_USAGE', `dualrun demo: ${message}`);
}

/** A fresh story on every run: only ever on the demo's own embedded server (assertOwnDatabase), whose data folder is kept. */
async function resetSchemas(db: Pool): Promise<void> {
  await db.query('DROP SCHEMA IF EXISTS shop CASCADE; DROP SCHEMA IF EXISTS analytics CASCADE; DROP SCHEMA IF EXISTS dualrun CASCADE');
}
