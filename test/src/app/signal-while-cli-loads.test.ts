/**
 * A SIGTERM/SIGINT that reached dualrun while its modules were still loading (the first
 * ~0.3 s compiled, 1–2 s from sources or on a loaded machine) killed the process with
 * Node's default: no exit code, nothing stopped in order, so `dualrun stream` or
 * `capture` stopped by their supervisor at start-up looked crashed. The signal is now
 * kept from bin's first line and the command stops at once when it starts: workers
 * exit 0, other commands 130/143. The CLI's load is slowed (test/support/slow-cli-load.mjs)
 * so the signal lands inside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { startCli } from '../../support/long-running-cli.ts';
import { ORDERS_DDL, setStage, setupToolkit, writeConfig } from '../../streaming/support.ts';
import { installCapture } from '../../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../../src/core/identifiers.ts';

const SLOW_LOAD = path.join(path.dirname(new URL(import.meta.url).pathname), '../../support/slow-cli-load.mjs');

let db: TestDatabase;
let file: string;
beforeAll(async () => {
  db = await createTestDatabase('signal_while_loading');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; ${ORDERS_DDL('public.out')}; INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-20' FROM generate_series(1, 5) g`);
  await installCapture(db.pool, parseTableRef('public.src')!);
  await setStage(db.pool, 'orders', 'shadow');
  ({ file } = writeConfig({ database: { url: db.url }, datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src' } } } } }));
});
afterAll(async () => { await db?.drop(); });

/** Runs the CLI with a slowed load and sends `signal` as soon as the CLI module starts loading. */
async function signalWhileLoading(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; stderr: string }> {
  const c = startCli(args, { env: { NODE_OPTIONS: `--import=${SLOW_LOAD}`, DUALRUN_TEST_SLOW_LOAD_MS: '1500' } });
  let seen = '';
  let sent = false;
  c.child.stderr!.on('data', (d) => {
    seen += d;
    if (!sent && seen.includes('DUALRUN_TEST: loading the CLI')) { sent = true; c.child.kill(signal); }
  });
  return new Promise((resolve) => {
    const guard = setTimeout(() => c.child.kill('SIGKILL'), 30_000);
    c.child.on('close', (code, killedBy) => { clearTimeout(guard); resolve({ code, killedBy, stderr: c.stderr() }); });
  });
}

describe('a signal while the CLI loads', () => {
  it('dualrun stream (SIGTERM): exit 0 after a stop, not killed by the signal', { timeout: 60_000 }, async () => {
    const r = await signalWhileLoading(['--config', file, 'stream'], 'SIGTERM');
    expect({ code: r.code, killedBy: r.killedBy }, r.stderr).toEqual({ code: 0, killedBy: null });
    expect(r.stderr).toContain('stopping at the next safe point');
    // Stopped before any work: nothing was applied.
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(0);
  });

  it('dualrun schedule (SIGINT): exit 0, and no fire ran', { timeout: 60_000 }, async () => {
    const { dir, file: sched } = writeConfig({ database: { url: db.url }, datasets: {} });
    fs.writeFileSync(path.join(dir, 'load.sql'), 'SELECT * FROM public.src WHERE order_date >= :window_start AND order_date < :window_end');
    fs.writeFileSync(sched, JSON.stringify({ database: { url: db.url }, datasets: { orders: {
      key: ['order_id'], window: { column: 'order_date' }, batch: { output: 'public.b', query: 'load.sql', schedule: '* * * * * *' },
      stream: { output: 'public.out', source: { table: 'public.src' } },
    } } }));
    const r = await signalWhileLoading(['--config', sched, 'schedule'], 'SIGINT');
    expect({ code: r.code, killedBy: r.killedBy }, r.stderr).toEqual({ code: 0, killedBy: null });
    expect(r.stderr).toContain('stopping at the next safe point');
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM dualrun.scheduler_fires`)).rows[0].n).toBe(0);
  });

  it('a one-shot command (dualrun datasets, SIGINT): exit 130, as an interrupted command', { timeout: 60_000 }, async () => {
    const r = await signalWhileLoading(['--config', file, 'datasets'], 'SIGINT');
    expect({ code: r.code, killedBy: r.killedBy }, r.stderr).toEqual({ code: 130, killedBy: null });
  });
});
