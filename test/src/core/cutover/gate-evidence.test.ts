/**
 * The gate's evidence rules on a real Postgres, each named after what broke
 * (issue #11): results judged by the real reconciler, the definition history,
 * stored errors, and the record of refused promotions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { readHistory } from '../../../../src/core/cutover/audit-log.ts';
import { readGateDecisions } from '../../../../src/core/cutover/gate-decisions.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { DualrunError } from '../../../../src/core/errors.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, daysAgo, rawConfig, recordDefinitionsLongAgo, seedVerdict, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture | undefined;
const extra: Runtime[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((r) => r.close()));
  await fx?.cleanup();
  fx = undefined;
});

const why = { reason: 'test', actor: 'tester' };

async function refusal(p: Promise<unknown>): Promise<DualrunError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DualrunError);
  expect((e as DualrunError).code).toBe('DUALRUN_GATE_REFUSED');
  return e as DualrunError;
}

async function orders(rt: Runtime) {
  return (await cutoverStatus(rt)).find((s) => s.dataset === 'orders')!.next!;
}

/** A runtime whose stream transform is dir/orders.ts, promoted to shadow, its definition recorded long ago and 3 clean nights seeded. */
async function readyWithTransform(dir: string) {
  const db = fx!.db;
  const raw = rawConfig(db.url) as { datasets: { orders: { stream: Record<string, unknown> } } };
  raw.datasets.orders.stream.transform = 'orders.ts';
  const rt = createRuntime({ config: compileConfig(raw, { path: path.join(dir, 'dualrun.yaml') }), log: pino({ level: 'silent' }) });
  extra.push(rt);
  await rt.db();
  await db.pool.query('DELETE FROM dualrun.dataset_definitions');
  await recordDefinitionsLongAgo(rt);
  await promote(rt, 'orders', why);
  for (const d of [1, 2, 3]) await seedVerdict(db.pool, { day: daysAgo(d), verdict: 'match', agoHours: d });
  expect(await orders(rt)).toMatchObject({ ready: true, clean: 3 });
  return rt;
}

describe('never replacing what dualrun did not create', () => {
  it('an existing view named by cutover.serve that dualrun did not create is refused, not replaced', async () => {
    fx = await createFixture({ serve: 'analytics.user_view' });
    await fx.db.pool.query(`CREATE VIEW analytics.user_view AS SELECT 42 AS answer`);
    const e = await promote(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(e).toMatchObject({ code: 'DUALRUN_SERVE_REFUSED', message: expect.stringContaining('analytics.user_view is an existing view that dualrun did not create') });
    expect((await fx.db.pool.query('SELECT answer FROM analytics.user_view')).rows).toEqual([{ answer: 42 }]);
    expect((await fx.db.pool.query(`SELECT count(*)::int AS n FROM dualrun.stages`)).rows[0].n).toBe(0);
  });
});

describe('gate evidence', () => {
  it('a mismatch judged 18 s before the promote breaks a streak of later windows judged earlier (promotion granted right after a mismatch); the refusal is recorded and --force is audited as forced', async () => {
    fx = await createFixture();
    await promote(fx.rt, 'orders', why);
    const H = 1 / 60; // agoHours in minutes
    for (const d of [1, 2, 3]) await seedVerdict(fx.db.pool, { day: daysAgo(d), verdict: 'match', agoHours: 10 * H });
    const breaker = await seedVerdict(fx.db.pool, { day: daysAgo(4), verdict: 'mismatch', agoHours: 0.3 * H });
    const e = await refusal(promote(fx.rt, 'orders', { reason: 'looks fine to me', actor: 'dana' }));
    expect(e.message).toContain(`broken by the mismatch on window ${daysAgo(4)} judged`);
    expect(e.message).toContain(`(reconciliation #${breaker})`);
    expect(e.message).toContain(`did not count: ${daysAgo(1)} (judged`);
    expect(e.details.gate).toMatchObject({ ok: false, clean: 0, evidence: [], breaker: { id: breaker, window: daysAgo(4), verdict: 'mismatch', rule: 'window-order' } });

    const [refused] = await readGateDecisions(fx.db.pool, { dataset: 'orders' }).then((d) => d.filter((x) => x.outcome === 'refused'));
    expect(refused).toMatchObject({ from: 'shadow', to: 'streaming', outcome: 'refused', actor: 'dana', reason: 'looks fine to me', evidence: [] });
    expect(refused.why[0]).toContain(`#${breaker}`);
    expect(String(e.details.decision)).toBe(refused.id);

    const forced = await promote(fx.rt, 'orders', { reason: 'incident 7', actor: 'dana', force: true });
    expect(forced).toMatchObject({ forced: true, to: 'streaming' });
    expect((await readHistory(fx.db.pool, 'orders')).at(-1)).toMatchObject({ forced: true, actor: 'dana', gate: { ok: false } });
    expect((await readGateDecisions(fx.db.pool, { dataset: 'orders' })).map((d) => d.outcome)).toEqual(['granted', 'refused', 'forced']);
  });

  it('evidence judged before a transform change does not count, also when only a helper the transform imports changed (promotion on evidence from before the change)', async () => {
    fx = await createFixture();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'orders.ts'), "import { fix } from './helper.ts';\nexport default (r: any) => fix(r);\n");
    fs.writeFileSync(path.join(dir, 'helper.ts'), 'export const fix = (r: any) => r;\n');
    const rt = await readyWithTransform(dir);

    fs.writeFileSync(path.join(dir, 'helper.ts'), 'export const fix = (r: any) => ({ ...r, amount: 0 });\n');
    const status = await orders(rt);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([1, 2, 3].map((d) => [daysAgo(d), 'definition']));
    expect(status.notCounted[0].reason).toContain('stream transform changed');
    const e = await refusal(promote(rt, 'orders', why));
    expect(e.message).toContain('did not count');
    // The refusal recorded the change: from now on the history dates it.
    const defs = await fx.db.pool.query(`SELECT seen_by FROM dualrun.dataset_definitions WHERE dataset = 'orders' ORDER BY id`);
    expect(defs.rows.map((r) => r.seen_by)).toEqual(['test', 'promote']);
    expect((await orders(rt)).notCounted[0].reason).toMatch(/^judged under an earlier definition of the dataset \(stream transform changed\) \(current since /);
  });

  it('evidence judged before a package the stream transform imports was upgraded does not count (a new version of the rounding library kept 3/3 clean)', async () => {
    fx = await createFixture();
    const dir = tempDir();
    const pkg = path.join(dir, 'node_modules', '@acme', 'rounding');
    fs.mkdirSync(pkg, { recursive: true });
    const version = (v: string) => fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@acme/rounding', version: v, main: 'index.js' }));
    version('1.4.0');
    fs.writeFileSync(path.join(pkg, 'index.js'), 'exports.round = (x) => x;\n');
    fs.writeFileSync(path.join(dir, 'orders.ts'), "import { round } from '@acme/rounding/strict';\nimport fs from 'node:fs';\nexport default (r: any) => ({ ...r, amount: round(r.amount) });\n");
    const rt = await readyWithTransform(dir);

    version('2.0.0'); // npm update: same transform file, other code
    const status = await orders(rt);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([1, 2, 3].map((d) => [daysAgo(d), 'definition']));
    expect(status.notCounted[0].reason).toContain('stream transform changed');
  });

  it('a reconciliation that could not run is stored and breaks the streak (errors were invisible to the gate)', async () => {
    fx = await createFixture();
    await promote(fx.rt, 'plain', why);
    await fx.db.pool.query(`CREATE TABLE analytics.plain_batch (id int PRIMARY KEY); CREATE TABLE analytics.plain_stream (id int PRIMARY KEY);
      INSERT INTO analytics.plain_batch VALUES (1); INSERT INTO analytics.plain_stream VALUES (1)`);
    await seedVerdict(fx.db.pool, { dataset: 'plain', day: null, verdict: 'match', agoHours: 2 });
    expect((await cutoverStatus(fx.rt)).find((s) => s.dataset === 'plain')!.next).toMatchObject({ ready: true });
    // Without its tables the reconciler cannot compare them.
    await fx.db.pool.query('DROP TABLE analytics.plain_batch, analytics.plain_stream');
    const [r] = await reconcileDataset(fx.rt, 'plain');
    expect(r.verdict).toBe('error');
    const stored = await fx.db.pool.query(`SELECT id::text, code, message FROM dualrun.reconcile_errors WHERE dataset = 'plain'`);
    expect(stored.rows).toHaveLength(1);
    const e = await refusal(promote(fx.rt, 'plain', why));
    expect(e.details.gate).toMatchObject({ breaker: { verdict: 'error', id: stored.rows[0].id }, evidence: [], counted: [] });
    expect(e.message).toContain(`broken by the error on the whole table judged`);
  });

  it('empty windows and a partial batch load judged by the real reconciler do not count (7/7 clean on empty windows; a window loaded before it ended)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const empty = ['2026-11-20', '2026-11-21', '2026-11-22'];
    const results = await reconcileDataset(fx.rt, 'orders', { windows: empty, assumeSettled: true });
    expect(results.map((r) => [r.verdict, r.batch?.rows, r.stream?.rows])).toEqual(empty.map(() => ['match', 0, 0]));
    let status = await orders(fx.rt);
    expect(status).toMatchObject({ ready: false, clean: 0, minRowsPerWindow: 1 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([...empty].reverse().map((w) => [w, 'min-rows']));

    // 11-25 holds the same 2 rows on both sides, but its batch load is partial.
    await pool.query(`INSERT INTO analytics.orders_batch VALUES (101, '2026-11-25', 1, 'x'), (102, '2026-11-25', 2, 'x');
      INSERT INTO analytics.orders_stream VALUES (101, '2026-11-25', 1, 'x', 1, now()), (102, '2026-11-25', 2, 'x', 1, now());
      INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, finished_at, rows, snapshot_at)
        VALUES ('orders', '2026-11-25', '2026-11-26', '2026-11-25', 'managed', 'partial', now(), 2, now());
      INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', '2030-01-01')`);
    const [pending] = await reconcileDataset(fx.rt, 'orders', { windows: ['2026-11-25'] });
    expect(pending).toMatchObject({ verdict: 'pending' });
    expect(pending.pendingReason).toMatch(/newest batch run for window 2026-11-25 is partial .*never as cutover evidence/);
    const [judged] = await reconcileDataset(fx.rt, 'orders', { windows: ['2026-11-25'], assumeSettled: true });
    expect(judged).toMatchObject({ verdict: 'match', batch: { rows: 2 }, stream: { rows: 2 } });
    status = await orders(fx.rt);
    expect(status.clean).toBe(0);
    expect(status.notCounted[0]).toMatchObject({ window: '2026-11-25', rule: 'partial-load' });
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.message).toContain('did not count: 2026-11-25 (its batch load (run ');
    expect(e.message).toContain('2026-11-22 (0 batch rows, 0 stream rows (cutover.minRowsPerWindow 1 on both sides))');
  });
});

describe('evidence that no longer describes the outputs', () => {
  it('clean windows whose stream output was truncated, or recreated empty, after they were judged do not count (promotion served an empty stream output)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const days = ['2026-11-25', '2026-11-26', '2026-11-27'];
    for (const [i, d] of days.entries()) {
      await pool.query(`INSERT INTO analytics.orders_batch SELECT 200 + ${i * 10} + g, $1::date, g, 'x' FROM generate_series(1, 3) g;
        INSERT INTO analytics.orders_stream SELECT 200 + ${i * 10} + g, $1::date, g, 'x', 1, now() FROM generate_series(1, 3) g`.replace(/\$1/g, `'${d}'`));
    }
    const judged = await reconcileDataset(fx.rt, 'orders', { windows: days, assumeSettled: true });
    expect(judged.map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    expect(await orders(fx.rt)).toMatchObject({ ready: true, clean: 3 });

    await pool.query('TRUNCATE analytics.orders_stream');
    let status = await orders(fx.rt);
    expect(status).toMatchObject({ ready: false, clean: 0, counted: [] });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([...days].reverse().map((d) => [d, 'rows-changed']));
    expect(status.notCounted[0].reason).toBe('the stream output now holds 0 rows (3 when judged): truncated, reloaded or rebuilt since it was judged; reconcile it again');
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.message).toContain('the stream output now holds 0 rows (3 when judged)');
    expect((await pool.query(`SELECT stage FROM dualrun.stages WHERE dataset = 'orders'`)).rows[0].stage).toBe('shadow');

    // Dropped and created again: gone is gone, also on the batch side.
    await pool.query(`DROP VIEW analytics.orders; DROP TABLE analytics.orders_batch;
      CREATE TABLE analytics.orders_batch (order_id int PRIMARY KEY, order_date date NOT NULL, amount numeric(12,2), side text NOT NULL)`);
    status = await orders(fx.rt);
    expect(status.notCounted[0].reason).toContain('the batch output now holds 0 rows (3 when judged), the stream output now holds 0 rows (3 when judged)');

    // Judged again on what the tables hold now, and a window that lost one row: only the unchanged count.
    for (const [i, d] of days.entries()) {
      await pool.query(`INSERT INTO analytics.orders_batch SELECT 200 + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 3) g;
        INSERT INTO analytics.orders_stream SELECT 200 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
    }
    await reconcileDataset(fx.rt, 'orders', { windows: days, assumeSettled: true });
    await pool.query(`DELETE FROM analytics.orders_stream WHERE order_id = 221`);
    status = await orders(fx.rt);
    expect(status).toMatchObject({ ready: false, clean: 2 });
    expect(status.notCounted).toMatchObject([{ window: '2026-11-27', rule: 'rows-changed', reason: expect.stringContaining('the stream output now holds 2 rows (3 when judged)') }]);
    // Written back by hand: the count is the judged one again, but these are not the rows judged (stream-rewritten) until reconciled again.
    await pool.query(`INSERT INTO analytics.orders_stream VALUES (221, '2026-11-27', 1, 'x', 1, now())`);
    expect((await orders(fx.rt)).notCounted).toMatchObject([{ window: '2026-11-27', rule: 'stream-rewritten' }]);
    await reconcileDataset(fx.rt, 'orders', { windows: ['2026-11-27'], assumeSettled: true });
    await expect(promote(fx.rt, 'orders', why)).resolves.toMatchObject({ to: 'streaming', forced: false });
  });
});

describe('evidence about other tables or other columns', () => {
  it('clean windows do not count once an output gained or retyped a column, or was dropped and loaded again with the same row count (promotion on verdicts that never compared the new column)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const days = ['2026-11-25', '2026-11-26', '2026-11-27'];
    const load = async (table: 'batch' | 'stream') => {
      for (const [i, d] of days.entries()) {
        await pool.query(table === 'batch'
          ? `INSERT INTO analytics.orders_batch SELECT 300 + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 3) g`
          : `INSERT INTO analytics.orders_stream SELECT 300 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
      }
    };
    await load('batch');
    await load('stream');
    const judge = async () => (await reconcileDataset(fx!.rt, 'orders', { windows: days, assumeSettled: true })).map((r) => r.verdict);
    expect(await judge()).toEqual(['match', 'match', 'match']);
    expect((await orders(fx.rt))).toMatchObject({ ready: true, clean: 3 });

    // Both outputs gain a column: the verdicts never compared it (the stream leaves it NULL).
    await pool.query(`ALTER TABLE analytics.orders_batch ADD COLUMN discount numeric; ALTER TABLE analytics.orders_stream ADD COLUMN discount numeric;
      UPDATE analytics.orders_batch SET discount = 1`);
    let status = await orders(fx.rt);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([...days].reverse().map((d) => [d, 'table-changed']));
    expect(status.notCounted[0].reason).toBe('the batch output has gained, lost or retyped a column, the stream output has gained, lost or retyped a column since it was judged: the verdict is about another table or other columns; reconcile it again');
    expect(await judge()).toEqual(['mismatch', 'mismatch', 'mismatch']);
    await pool.query('UPDATE analytics.orders_stream SET discount = 1');
    expect(await judge()).toEqual(['match', 'match', 'match']);

    // A type change on one side that changes no count.
    await pool.query('ALTER TABLE analytics.orders_stream ALTER COLUMN amount TYPE numeric(12,0)');
    status = await orders(fx.rt);
    expect(status.notCounted[0]).toMatchObject({ rule: 'table-changed', reason: expect.stringMatching(/^the stream output has gained, lost or retyped a column since/) });
    expect(await judge()).toEqual(['match', 'match', 'match']);

    // Dropped, created again and loaded with as many rows: another table.
    await pool.query(`DROP VIEW analytics.orders; DROP TABLE analytics.orders_batch;
      CREATE TABLE analytics.orders_batch (order_id int PRIMARY KEY, order_date date NOT NULL, amount numeric(12,2), side text NOT NULL, discount numeric)`);
    await load('batch');
    await pool.query(`UPDATE analytics.orders_batch SET discount = 1; INSERT INTO analytics.orders_batch SELECT g, date '2026-11-19', g * 10, 'batch', 1 FROM generate_series(1, 5) g`);
    status = await orders(fx.rt);
    expect(status.notCounted[0]).toMatchObject({ rule: 'table-changed', reason: expect.stringMatching(/^the batch output was dropped and created again since/) });
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.message).toContain('the batch output was dropped and created again');
    expect(await judge()).toEqual(['match', 'match', 'match']);
    await expect(promote(fx.rt, 'orders', why)).resolves.toMatchObject({ to: 'streaming', forced: false });
  });
});

describe('whole-table runs', () => {
  it('re-running the reconciler on unchanged whole tables adds no evidence; a changed stream state does (three runs in a row promoted promoteAfter 3)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    const raw = rawConfig(fx.db.url) as { datasets: { plain: { cutover: Record<string, unknown> } } };
    raw.datasets.plain.cutover = { promoteAfter: 3 };
    const rt = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
    extra.push(rt);
    await recordDefinitionsLongAgo(rt);
    await promote(rt, 'plain', why);
    await pool.query(`CREATE TABLE analytics.plain_batch (id int PRIMARY KEY, v int); CREATE TABLE analytics.plain_stream (id int PRIMARY KEY, v int);
      INSERT INTO analytics.plain_batch SELECT g, g FROM generate_series(1, 5) g; INSERT INTO analytics.plain_stream SELECT g, g FROM generate_series(1, 5) g`);
    const plain = async () => (await cutoverStatus(rt)).find((s) => s.dataset === 'plain')!.next!;
    for (let i = 0; i < 3; i++) expect((await reconcileDataset(rt, 'plain', { assumeSettled: true }))[0].verdict).toBe('match');
    expect(await plain()).toMatchObject({ ready: false, clean: 1 });
    await refusal(promote(rt, 'plain', why));
    // The data moves on both sides (a live stream, a new load): each new state is a new observation.
    for (const id of [6, 7]) {
      await pool.query(`INSERT INTO analytics.plain_batch VALUES (${id}, ${id}); INSERT INTO analytics.plain_stream VALUES (${id}, ${id})`);
      expect((await reconcileDataset(rt, 'plain', { assumeSettled: true }))[0].verdict).toBe('match');
    }
    expect(await plain()).toMatchObject({ ready: true, clean: 3 });
  });
});

describe('comparing an output with itself', () => {
  it('a stream output that is the batch output (another connection string) or a view over it is a reconcile error, not a match (promotion on a comparison of a table with itself)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await pool.query(`CREATE TABLE analytics.plain_batch (id int PRIMARY KEY, v int); INSERT INTO analytics.plain_batch SELECT g, g FROM generate_series(1, 5) g;
      CREATE VIEW analytics.plain_view AS SELECT id, v FROM (SELECT * FROM analytics.plain_batch) b`);
    const sameDbOtherUrl = `${fx.db.url}${fx.db.url.includes('?') ? '&' : '?'}application_name=stream-side`;
    for (const stream of [{ output: 'analytics.plain_view', adopted: true }, { output: 'analytics.plain_batch', database: sameDbOtherUrl, adopted: true }]) {
      const raw = rawConfig(fx.db.url) as { datasets: { plain: Record<string, unknown> } };
      raw.datasets.plain.stream = stream;
      const rt = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
      extra.push(rt);
      const [r] = await reconcileDataset(rt, 'plain', { assumeSettled: true });
      expect(r.verdict).toBe('error');
      expect(r.error?.message).toMatch(stream.database
        ? /analytics\.plain_batch is the batch output analytics\.plain_batch \(the same table\); comparing an output with itself matches by construction/
        : /the stream output analytics\.plain_view is a view that reads the batch output analytics\.plain_batch/);
    }
    expect((await pool.query(`SELECT count(*)::int AS n FROM dualrun.reconcile_errors WHERE dataset = 'plain'`)).rows[0].n).toBe(2);
  });
});
