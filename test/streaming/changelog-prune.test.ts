/**
 * Pruning the trigger changelog (issue 13) on a real Postgres: it deletes only rows
 * every consumer of a source table has read (several datasets on one table, one
 * lagging, one never started), in bounded batches, keeps what changelogRetention
 * asks for, and what was pruned makes a replay or a late reader refuse instead of
 * rebuilding from a partial history. Concurrent writers whose transactions commit
 * out of order while workers stream and prunes run: every change is applied exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/core/db/connect.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import type { PromMetrics } from '../../src/core/metrics/prom-metrics.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { pruneChangelog } from '../../streaming/capture/changelog-prune.ts';
import { followChangelog, type FollowOptions } from '../../streaming/capture/changelog-reader.ts';
import { BEFORE_EVERYTHING } from '../../streaming/transport.ts';
import { replayOnTheSide } from '../../streaming/replay.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { ORDERS_DDL, ORDER_COLUMNS, setStage, setupToolkit, symmetricDifference, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('stream_prune');
  await setupToolkit(db.pool);
  await db.pool.query('CREATE SCHEMA analytics');
});
afterAll(async () => { await db?.drop(); });

type Raw = Record<string, unknown>;

/** A dataset reading `table` through the trigger changelog into `analytics.<name>`. */
function dataset(name: string, table: string, source: Raw = {}): Raw {
  return { key: ['order_id'], batch: { output: `analytics.${name}_batch` }, stream: { output: `analytics.${name}`, source: { table, ...source } } };
}

async function prepare(table: string, outputs: string[], rowsBefore = 0): Promise<void> {
  await db.pool.query(ORDERS_DDL(table));
  for (const o of outputs) {
    await db.pool.query(ORDERS_DDL(`analytics.${o}`));
    await setStage(db.pool, o, 'shadow');
  }
  if (rowsBefore > 0) await db.pool.query(`INSERT INTO ${table} SELECT g, g % 7, 1.00, 'new', date '2026-11-01' FROM generate_series(1, $1::int) g`, [rowsBefore]);
  await installCapture(db.pool, parseTableRef(table)!);
}

async function toIdle(config: ReturnType<typeof writeConfig>['config'], datasets: string[]) {
  const rt = testRuntime(config);
  try { return await runStreamWorker(rt, { datasets, untilIdle: true }); } finally { await rt.close(); }
}

async function prune(config: ReturnType<typeof writeConfig>['config'], table: string, batchSize?: number) {
  const rt = testRuntime(config);
  try { return await pruneChangelog(rt, table, { batchSize }); } finally { await rt.close(); }
}

const count = async (pool: Pool, sql: string, params: unknown[] = []) => Number((await pool.query<{ n: string }>(sql, params)).rows[0].n);
const changelogRows = (table: string) => count(db.pool, 'SELECT count(*)::text AS n FROM dualrun.changelog WHERE source_table = $1', [table]);
const prunedRows = (table: string) => count(db.pool, 'SELECT coalesce(sum(rows_pruned), 0)::text AS n FROM dualrun.changelog_pruned WHERE source_table = $1', [table]);
const applied = (ds: string) => count(db.pool, 'SELECT coalesce(sum(records_applied + records_dead), 0)::text AS n FROM dualrun.stream_positions WHERE dataset = $1', [ds]);

async function positionOf(ds: string, source: string): Promise<{ tx: string; id: string }> {
  const r = await db.pool.query<{ tx: string; id: string }>('SELECT position::text AS tx, sub_position::text AS id FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2 AND partition = 0', [ds, source]);
  return r.rows[0];
}

async function updateSome(table: string, n: number, round: number): Promise<void> {
  await db.pool.query(`UPDATE ${table} SET amount = amount + 1, status = $2 WHERE order_id <= $1`, [n, `r${round}`]);
}

describe('pruning the trigger changelog', () => {
  it('keeps every row a consumer still needs: two datasets on one table (one lagging) and one that never ran', { timeout: 90_000 }, async () => {
    const t = 'public.shared_src';
    await prepare(t, ['a', 'b', 'c'], 200);
    const { config } = writeConfig({ database: { url: db.url }, datasets: { a: dataset('a', t), b: dataset('b', t), c: dataset('c', t) } });
    await updateSome(t, 100, 1);
    await toIdle(config, ['a', 'b']); // its closing prune must keep everything: c has never read
    expect(await changelogRows(t)).toBe(300);
    expect((await prune(config, t)).keptBecause).toMatch(/dataset c has not read it yet/);

    await toIdle(config, ['c']); // now all three stand at the head: everything goes
    expect(await changelogRows(t)).toBe(0);
    expect(await prunedRows(t)).toBe(300);

    await updateSome(t, 100, 2);
    await toIdle(config, ['b']); // a and c have not read these 100 yet
    expect(await changelogRows(t)).toBe(100);
    await updateSome(t, 100, 3);
    await toIdle(config, ['a', 'c']); // b lags behind by the last 100
    const b = await positionOf('b', `changelog:${t}`);
    expect(await changelogRows(t)).toBe(100);
    expect(await count(db.pool, 'SELECT count(*)::text AS n FROM dualrun.changelog WHERE source_table = $1 AND (tx_id, id) <= ($2::bigint, $3::bigint)', [t, b.tx, b.id])).toBe(0);
    const held = await prune(config, t);
    expect(held).toMatchObject({ pruned: 0, keptBecause: `dataset b has read up to ${b.tx}.${b.id}` });

    await toIdle(config, ['b']);
    for (const ds of ['a', 'b', 'c']) {
      expect(await symmetricDifference(db.pool, t, `analytics.${ds}`, ORDER_COLUMNS)).toBe(0);
      expect(await applied(ds)).toBe(500); // each change exactly once, whatever was pruned when
    }
    expect(await changelogRows(t) + await prunedRows(t)).toBe(500);
  });

  it('prunes in bounded batches up to the oldest position, and the CLI reports it', { timeout: 60_000 }, async () => {
    const t = 'public.batch_src';
    await prepare(t, ['p'], 2500);
    const { config, file, dir } = writeConfig({ database: { url: db.url }, datasets: { p: dataset('p', t) } });
    // The consumer stands after the 2000th row in read order: 500 rows are still needed.
    await db.pool.query(`INSERT INTO dualrun.stream_positions (dataset, source, partition, position, sub_position)
      SELECT 'p', $2, 0, tx_id, id FROM dualrun.changelog WHERE source_table = $1 ORDER BY tx_id, id OFFSET 1999 LIMIT 1`, [t, `changelog:${t}`]);
    const rt = testRuntime(config);
    const r = await pruneChangelog(rt, t, { batchSize: 300 }).finally(() => rt.close());
    expect(r).toMatchObject({ pruned: 2000, batches: 7 });
    const metric = await (rt.metrics as PromMetrics).prom.registry.getSingleMetricAsString('dualrun_changelog_pruned_rows_total');
    expect(metric).toContain(`dualrun_changelog_pruned_rows_total{table="${t}"} 2000`);
    expect(await changelogRows(t)).toBe(500);
    const at = await positionOf('p', `changelog:${t}`);
    expect(r.prunedThrough).toBe(`${at.tx}.${at.id}`);
    expect(await count(db.pool, 'SELECT count(*)::text AS n FROM dualrun.changelog WHERE source_table = $1 AND (tx_id, id) <= ($2::bigint, $3::bigint)', [t, at.tx, at.id])).toBe(0);
    await toIdle(config, ['p']); // reads the 500 left, then its closing prune takes them
    expect(await changelogRows(t)).toBe(0);
    await updateSome(t, 40, 1);
    await toIdle(config, ['p']);
    const cli = await runCli(['--config', file, 'capture', '--prune', '--format', 'json'], { cwd: dir });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual({ pruned: [expect.objectContaining({ table: t, pruned: 0, keptBecause: expect.stringMatching(/^dataset p has read up to/) })] });
    expect(await prunedRows(t)).toBe(2540);
    const status = await runCli(['--config', file, 'datasets', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ dataset: 'p', changelog: { table: t, rows: 0, rowsCapped: false, prunedRows: 2540 } });
  });

  it('changelogRetention keeps rows for replays: forever keeps all, a duration keeps that much', { timeout: 60_000 }, async () => {
    const t = 'public.keep_src';
    await prepare(t, ['k1', 'k2'], 300);
    const forever = writeConfig({ database: { url: db.url }, datasets: { k1: dataset('k1', t, { changelogRetention: 'forever' }), k2: dataset('k2', t) } }).config;
    await toIdle(forever, ['k1', 'k2']);
    expect(await changelogRows(t)).toBe(300); // the longest retention of the datasets sharing the table applies
    expect((await prune(forever, t)).keptBecause).toBe('changelogRetention: forever');
    const rt = testRuntime(forever);
    try {
      const replay = await replayOnTheSide(rt, rt.dataset('k1'), { kind: 'beginning' }, { resetOutput: true });
      expect(replay).toMatchObject({ swapped: true, rebuiltRows: 300 });
    } finally { await rt.close(); }

    // 1h: the 100 rows made to look two hours old go, the 200 recent ones stay.
    await db.pool.query(`UPDATE dualrun.changelog SET ts = ts - interval '2 hours' WHERE id IN (
      SELECT id FROM dualrun.changelog WHERE source_table = $1 ORDER BY tx_id, id LIMIT 100)`, [t]);
    const hour = writeConfig({ database: { url: db.url }, datasets: { k1: dataset('k1', t, { changelogRetention: '1h' }), k2: dataset('k2', t) } }).config;
    const r = await prune(hour, t);
    expect(r).toMatchObject({ pruned: 100, keptBecause: 'changes of the last 1h are kept (changelogRetention)' });
    expect(await changelogRows(t)).toBe(200);
  });

  it('a replay after pruning refuses, naming what was pruned and what to set; the output stays as it was', { timeout: 60_000 }, async () => {
    const t = 'public.replay_src';
    await prepare(t, ['r'], 150);
    const { config, file, dir } = writeConfig({ database: { url: db.url }, datasets: { r: dataset('r', t) } });
    await toIdle(config, ['r']);
    expect(await prunedRows(t)).toBe(150);
    const before = await count(db.pool, 'SELECT count(*)::text AS n FROM analytics.r');
    const rt = testRuntime(config);
    try {
      await expect(replayOnTheSide(rt, rt.dataset('r'), { kind: 'beginning' }, { resetOutput: true }))
        .rejects.toMatchObject({ code: 'DUALRUN_CHANGELOG_PRUNED', message: expect.stringMatching(/cannot replay from the beginning.*pruned through.*datasets\.r\.stream\.source\.changelogRetention: forever/) });
      await expect(replayOnTheSide(rt, rt.dataset('r'), { kind: 'time', at: new Date(Date.now() - 3_600_000) }, { resetOutput: true }))
        .rejects.toMatchObject({ code: 'DUALRUN_CHANGELOG_PRUNED', message: expect.stringMatching(/cannot replay from .*changelogRetention to a duration/) });
      expect(await count(db.pool, 'SELECT count(*)::text AS n FROM analytics.r')).toBe(before);
      // From a time after everything pruned, the rows needed are there: the replay runs.
      const after = new Date((await db.pool.query<{ t: Date }>('SELECT newest_ts + interval \'10 milliseconds\' AS t FROM dualrun.changelog_pruned WHERE source_table = $1', [t])).rows[0].t);
      await new Promise((res) => setTimeout(res, 30));
      await updateSome(t, 30, 1);
      const ok = await replayOnTheSide(rt, rt.dataset('r'), { kind: 'time', at: after }, { resetOutput: true });
      expect(ok.swapped).toBe(true);
      expect(await symmetricDifference(db.pool, t, 'analytics.r', ORDER_COLUMNS)).toBe(0);
    } finally { await rt.close(); }
    const cli = await runCli(['--config', file, 'stream', '--dataset', 'r', '--from-beginning', '--reset-output', '--until-idle'], { cwd: dir });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/changelogRetention: forever/);
  });

  it('a dataset added after pruning began refuses to start instead of silently missing the pruned history', { timeout: 60_000 }, async () => {
    const t = 'public.late_src';
    await prepare(t, ['early', 'late'], 50);
    const first = writeConfig({ database: { url: db.url }, datasets: { early: dataset('early', t) } }).config;
    await toIdle(first, ['early']);
    expect(await prunedRows(t)).toBe(50);
    const both = writeConfig({ database: { url: db.url }, datasets: { early: dataset('early', t), late: dataset('late', t) } }).config;
    await expect(toIdle(both, ['late'])).rejects.toMatchObject({ code: 'DUALRUN_CHANGELOG_PRUNED', message: expect.stringMatching(/pruned through .*it has not read yet/) });
    expect(await count(db.pool, 'SELECT count(*)::text AS n FROM analytics.late')).toBe(0);
  });

  it('a second process of the same consumer, behind what pruning took, resumes from the stored position instead of failing', { timeout: 30_000 }, async () => {
    const t = 'public.twin_src';
    await prepare(t, ['twin'], 80);
    const { config } = writeConfig({ database: { url: db.url }, datasets: { twin: dataset('twin', t) } });
    await toIdle(config, ['twin']); // stands at the head; its closing prune took all 80
    await updateSome(t, 5, 1);
    const stored = await positionOf('twin', `changelog:${t}`);
    const at = { major: BigInt(stored.tx), minor: BigInt(stored.id) };
    const signal = new AbortController().signal;
    const pages = (o: Partial<FollowOptions>) => followChangelog(db.pool, t, BEFORE_EVERYTHING, { limit: 100, pollMs: 10, signal, untilIdle: true, ...o });
    const seen: string[] = [];
    for await (const page of pages({ stored: async () => at })) seen.push(...page.records.map((r) => r.position.minor.toString()));
    expect(seen).toHaveLength(5); // the 5 new changes, none of the pruned ones, no error
    await expect((async () => { for await (const _ of pages({})) { /* a reader nobody counted */ } })()).rejects.toMatchObject({ code: 'DUALRUN_CHANGELOG_PRUNED' });
  });

  it('concurrent writers committing out of order while workers stream and prunes run: every change applied exactly once', { timeout: 120_000 }, async () => {
    const t = 'public.conc_src';
    await prepare(t, ['w1', 'w2']);
    const { config } = writeConfig({ database: { url: db.url }, datasets: { w1: dataset('w1', t), w2: dataset('w2', t) } });
    const stop = new AbortController();
    const workerRt = testRuntime(config, stop.signal);
    const workers = runStreamWorker(workerRt, { datasets: ['w1', 'w2'], untilIdle: false, stagePollMs: 500 });
    const pruneRt = testRuntime(config);
    let prunes = 0;
    let writing = true;
    const pruning = (async () => {
      while (writing) {
        prunes += (await pruneChangelog(pruneRt, t, { batchSize: 200 })).pruned > 0 ? 1 : 0;
        await new Promise((res) => setTimeout(res, 15));
      }
    })();
    try {
      await Promise.all([0, 1, 2, 3].map((w) => writer(t, w, 60)));
      // Under load the workers may trail the writers so far that few prunes found anything
      // both had read: write on (bounded) until pruning has taken changes while they stream.
      for (let next = 60; prunes <= 3 && next < 260; next += 10) await Promise.all([0, 1, 2, 3].map((w) => writer(t, w, 10, next)));
    } finally {
      writing = false;
      await pruning;
      stop.abort();
      await workers;
      await Promise.all([workerRt.close(), pruneRt.close()]);
    }
    await toIdle(config, ['w1', 'w2']);
    expect(prunes).toBeGreaterThan(3); // pruning really ran while changes streamed
    const total = await changelogRows(t) + await prunedRows(t);
    expect(total).toBeGreaterThan(1000);
    for (const ds of ['w1', 'w2']) {
      expect(await symmetricDifference(db.pool, t, `analytics.${ds}`, ORDER_COLUMNS)).toBe(0);
      expect(await applied(ds)).toBe(total);
    }
  });
});

/**
 * One writer: transactions of a few changes that stay open for a while (so younger
 * transactions commit first), some rolled back; every 15th holds on for ~400 ms, so
 * its small transaction id stays below the read horizon while many others commit.
 */
async function writer(table: string, w: number, txs: number, first = 0): Promise<void> {
  const c = await db.pool.connect();
  try {
    for (let i = first; i < first + txs; i++) {
      await c.query('BEGIN');
      const base = w * 100_000 + i * 10;
      await c.query(`INSERT INTO ${table} SELECT g, $2::int, 1.00, 'new', date '2026-11-01' FROM generate_series($1::int, $1::int + 9) g`, [base, w]);
      await c.query(`UPDATE ${table} SET amount = amount + 1, status = 'paid' WHERE order_id BETWEEN $1 AND $1 + 4`, [base]);
      if (i > 0) await c.query(`DELETE FROM ${table} WHERE order_id = $1`, [base - 10]);
      await new Promise((res) => setTimeout(res, i % 15 === 0 ? 400 : Math.floor(Math.random() * 25)));
      await c.query(i % 9 === 4 ? 'ROLLBACK' : 'COMMIT');
    }
  } finally {
    c.release();
  }
}
