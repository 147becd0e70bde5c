/**
 * Rolling back after the batch path was retired: the batch output misses every window
 * that fell due while it was off (the scheduler runs only the newest due window, so
 * nothing fills them later). Each rollback says so until they are backfilled, also the
 * one that moves readers to the batch output after a first step back to `streaming`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollback } from '../../../../src/core/cutover/stage-change.ts';
import { readHistory } from '../../../../src/core/cutover/audit-log.ts';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../../support/cli.ts';
import { createFixture, rawConfig, servedSide, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

const why = { reason: 'test', actor: 'tester' };
const DAY = 86_400_000;
const label = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);

/** Loaded by the batch path: a succeeded run for each day `from..to` days ago. */
async function loaded(from: number, to: number): Promise<void> {
  await fx.db.pool.query(
    `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows)
     SELECT 'orders', d, d + 1, d::text, 'managed', 'succeeded', now(), now(), 1
       FROM generate_series($1::date, $2::date, interval '1 day') g, LATERAL (SELECT g::date AS d) x`, [label(from), label(to)]);
}

describe('rollback after the batch path was retired', () => {
  it('a rollback from streaming to shadow after streaming-only warns that the batch output misses the retired days, and the audit keeps the warning (readers were moved onto a stale batch output without a word)', async () => {
    const { pool } = fx.db;
    // The dataset's history: streaming-only since 5 days ago (the audit is append-only: history is written as it happened).
    await pool.query(`INSERT INTO dualrun.stages (dataset, stage, version, updated_at) VALUES ('orders', 'streaming-only', 4, now() - interval '5 days');
      INSERT INTO dualrun.cutover_audit (dataset, action, from_stage, to_stage, actor, reason, at) VALUES
        ('orders', 'promote', 'batch', 'shadow', 't', 'seed', now() - interval '30 days'),
        ('orders', 'promote', 'shadow', 'streaming', 't', 'seed', now() - interval '20 days'),
        ('orders', 'promote', 'streaming', 'streaming-only', 't', 'seed', now() - interval '5 days')`);
    await loaded(30, 6); // every day up to the one before retirement

    const toStreaming = await rollback(fx.rt, 'orders', why);
    expect(toStreaming).toMatchObject({ from: 'streaming-only', to: 'streaming' });
    expect(toStreaming.warnings).toHaveLength(1);
    expect(toStreaming.warnings[0]).toContain(`misses 5 window(s) that fell due then (${label(5)} … ${label(1)}): the batch side cannot verify them`);

    // Readers move to the batch output: the same days are still missing, and the rollback says so.
    const toShadow = await rollback(fx.rt, 'orders', why);
    expect(toShadow).toMatchObject({ from: 'streaming', to: 'shadow', serving: 'analytics.orders_batch' });
    expect(await servedSide(pool)).toBe('batch');
    expect(toShadow.warnings).toHaveLength(1);
    expect(toShadow.warnings[0]).toContain(`misses 5 window(s) that fell due then (${label(5)} … ${label(1)}): readers now see a batch output without them`);
    expect(toShadow.warnings[0]).toContain(`dualrun batch run orders --from ${label(5)} --to ${label(1)}`);
    // The audit keeps what the change warned about.
    expect(toShadow.audit.warnings).toEqual(toShadow.warnings);
    expect((await readHistory(pool, 'orders')).at(-1)!.warnings).toEqual(toShadow.warnings);

    // Backfilled (a re-run that failed afterwards rolled back and left the load): nothing to say.
    await loaded(5, 1);
    await pool.query(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, finished_at)
      VALUES ('orders', $1::date, $1::date + 1, $1, 'managed', 'failed', now())`, [label(3)]);
    const toBatch = await rollback(fx.rt, 'orders', why);
    expect(toBatch).toMatchObject({ from: 'shadow', to: 'batch', warnings: [] });
    const history = await readHistory(pool, 'orders');
    expect(history.map((a) => a.to)).toEqual(['shadow', 'streaming', 'streaming-only', 'streaming', 'shadow', 'batch']);
    expect(history.at(-1)!.warnings).toEqual([]);
  });

  it('the CLI prints the warning, returns it in --format json and keeps it in the history', async () => {
    const f = await createFixture();
    const cwd = tempDir();
    try {
      fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), JSON.stringify(rawConfig(f.db.url), null, 2));
      await f.db.pool.query(`INSERT INTO dualrun.stages (dataset, stage, version, updated_at) VALUES ('orders', 'streaming-only', 3, now() - interval '3 days');
        INSERT INTO dualrun.cutover_audit (dataset, action, from_stage, to_stage, actor, reason, at) VALUES
          ('orders', 'promote', 'streaming', 'streaming-only', 't', 'seed', now() - interval '3 days')`);
      const cli = (...args: string[]) => runCli(['cutover', ...args], { cwd, env: { USER: 'ci-user' } });
      const back = await cli('rollback', 'orders', '--to', 'shadow', '--reason', 'INC-7', '--format', 'json');
      expect(back.code, back.stderr).toBe(0);
      const change = JSON.parse(back.stdout);
      expect(change).toMatchObject({ from: 'streaming-only', to: 'shadow', serving: 'analytics.orders_batch' });
      // No batch run recorded at all: the day due when it was retired and the 3 due since.
      expect(change.warnings).toEqual([expect.stringContaining(`misses 4 window(s) that fell due then (${label(4)} … ${label(1)}): readers now see a batch output without them`)]);
      expect(change.audit.warnings).toEqual(change.warnings);
      const history = await cli('history', 'orders');
      expect(history.code).toBe(0);
      expect(history.stdout).toMatch(new RegExp(`#${change.audit.id} warned: the legacy batch path was retired`));
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
      await f.cleanup();
    }
  });
});
