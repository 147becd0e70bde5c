/**
 * `dualrun dead-letters` as an operator uses it, through the real CLI on a real
 * Postgres (built-in changelog transport): list/show with filters, retry after
 * fixing a transform (exactly once, also when the retry is SIGKILLed half-way and
 * run again), newest-wins against a row the stream applied later, a record that
 * fails again, and an audited discard.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { sampleRow } from '../../reconcile/sample-rows.ts';
import { requireSelection } from '../../src/app/commands/dead-letters.ts';
import { listDeadLetters, parseTimeOption, type DeadLetterFilter } from '../../streaming/dead-letter-store.ts';
import { BIN, runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { FIXTURES, ORDERS_DDL, setStage, setupToolkit } from './support.ts';

let db: TestDatabase;
let dir: string;

// v1 is the defect: no exchange rate for amounts of 100 or more. v2 is the fix; it
// still refuses customer 999 (so one record fails again), and can be told to hang on
// one order so the test can SIGKILL a retry in the middle.
const TRANSFORM_V1 = `export default function t(row: Record<string, unknown>) {
  if (Number(row.amount) >= 100) throw new Error('fx rate missing for amount ' + row.amount);
  return row;
}`;
const TRANSFORM_V2 = `import fs from 'node:fs';
export default function t(row: Record<string, unknown>) {
  if (row.customer_id === 999) throw new Error('customer 999 is blocked');
  const marker = process.env.DL_TEST_HANG_MARKER;
  if (marker && row.order_id === Number(process.env.DL_TEST_HANG_ON)) {
    fs.writeFileSync(marker, 'hanging');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  }
  return row;
}`;

function config(transform: string): string {
  return JSON.stringify({
    database: { url: db.url },
    datasets: {
      orders: {
        key: ['order_id'],
        batch: { output: 'public.orders_batch' },
        stream: { output: 'public.out', source: { table: 'public.src' }, transform: path.join(dir, transform), schema: path.join(FIXTURES, 'orders.schema.json') },
      },
    },
  });
}

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { DUALRUN_CONFIG: path.join(dir, 'dualrun.json'), DATABASE_URL: undefined, ...env } });
const useTransform = (file: string) => fs.writeFileSync(path.join(dir, 'dualrun.json'), config(file));
const jsonOf = (r: { stdout: string }) => JSON.parse(r.stdout);

beforeAll(async () => {
  db = await createTestDatabase('dead_letters');
  await setupToolkit(db.pool);
  await db.pool.query(ORDERS_DDL('public.src'));
  await db.pool.query(ORDERS_DDL('public.out'));
  // Every write the sink makes to the output, so "applied once" is counted, not assumed.
  await db.pool.query(`CREATE TABLE public.writes (order_id int, op text, amount numeric);
    CREATE FUNCTION public.count_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.writes VALUES (NEW.order_id, TG_OP, NEW.amount); RETURN NULL; END $$;
    CREATE TRIGGER count_write AFTER INSERT OR UPDATE ON public.out FOR EACH ROW EXECUTE FUNCTION public.count_write();`);
  await installCapture(db.pool, parseTableRef('public.src')!);
  await setStage(db.pool, 'orders', 'shadow');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-dl-'));
  fs.writeFileSync(path.join(dir, 'v1.ts'), TRANSFORM_V1);
  fs.writeFileSync(path.join(dir, 'v2.ts'), TRANSFORM_V2);
  useTransform('v1.ts');
  // Orders 1..20, amount 10 × id: 10..20 hit the defect. 12 belongs to the blocked customer.
  await db.pool.query(`INSERT INTO public.src SELECT g, CASE WHEN g = 12 THEN 999 ELSE g END, g * 10, 'new', '2026-11-20' FROM generate_series(1, 20) g`);
  // A record the schema refuses (validate stage), and a newer version of order 15 that v1 can apply.
  await db.pool.query(`INSERT INTO public.src VALUES (21, 21, 5, 'bogus', '2026-11-20')`);
  await db.pool.query(`UPDATE public.src SET amount = 50, status = 'paid' WHERE order_id = 15`);
  const s = await cli(['stream', '--dataset', 'orders', '--until-idle']);
  expect(s.code, s.stderr).toBe(0);
}, 60_000);
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

async function writesOf(id: number): Promise<number> {
  return (await db.pool.query('SELECT count(*)::int AS n FROM public.writes WHERE order_id = $1', [id])).rows[0].n;
}

describe('dualrun dead-letters', () => {
  it('list and show: filters by stage, reason, time and id; ids and positions are exact text in JSON', async () => {
    const all = jsonOf(await cli(['dead-letters', 'list', 'orders', '--format', 'json']));
    expect(all.total).toBe(12);
    expect(all.letters.every((d: { id: unknown; position: unknown }) => typeof d.id === 'string' && /^\d+$/.test(d.position as string))).toBe(true);
    const byStage = jsonOf(await cli(['dead-letters', 'list', 'orders', '--stage', 'validate', '--format', 'json']));
    expect(byStage.letters.map((d: { recordKey: string }) => d.recordKey)).toEqual(['21']);
    // The filters, straight against the store (the CLI maps its flags onto them one to one).
    const keys = async (f: DeadLetterFilter) => (await listDeadLetters(db.pool, 'orders', f)).letters.map((d) => Number(d.recordKey));
    const byReason = await listDeadLetters(db.pool, 'orders', { reason: 'FX RATE' });
    expect(byReason.letters.map((d) => Number(d.recordKey))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(await keys({ since: parseTimeOption('--since', '2099-01-01') })).toEqual([]);
    expect(await keys({ until: parseTimeOption('--until', '1h') })).toEqual([]);
    expect(await keys({ since: parseTimeOption('--since', '1h'), stage: 'validate' })).toEqual([21]);
    expect(() => parseTimeOption('--since', 'last tuesday')).toThrow(/--since/);
    const first = byReason.letters[0];
    expect((await listDeadLetters(db.pool, 'orders', { ids: [first.id] })).letters.map((d) => d.id)).toEqual([first.id]);
    const show = jsonOf(await cli(['dead-letters', 'show', 'orders', first.id, '--format', 'json']));
    expect(show).toMatchObject({ id: first.id, stage: 'transform', status: 'open', payloadEncoding: 'utf8', reason: 'fx rate missing for amount 100' });
    expect(JSON.parse(show.payload).after).toMatchObject({ order_id: 10, amount: 100 });
    const text = await cli(['dead-letters', 'list', 'orders', '--stage', 'transform', '--limit', '2']);
    expect(text.stdout).toMatch(/fx rate missing for amount 100/);
    expect(text.stdout).toContain('(2 of 11 shown');
    const bad = await cli(['dead-letters', 'list', 'orders', '--stage', 'load']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--stage: expected one of decode, validate, transform, apply')]);
  });

  it('reconcile: a key missing in the stream that has a dead letter says so and where', async () => {
    await db.pool.query('CREATE TABLE public.orders_batch AS SELECT * FROM public.src; ALTER TABLE public.orders_batch ADD PRIMARY KEY (order_id)');
    const r = await cli(['reconcile', 'orders', '--assume-settled', '--format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.diff.missingInStream).toBe(11); // 10..20 except 15 (applied in its newer version), and 21
    const missing = res.diff.samples.filter((x: { kind: string }) => x.kind === 'missing_in_stream');
    expect(missing).toHaveLength(11);
    for (const m of missing) expect(m.deadLetter, JSON.stringify(m.key)).toMatchObject({ id: expect.stringMatching(/^\d+$/), status: 'open', at: expect.any(String) });
    const byKey = Object.fromEntries(missing.map((m: { key: { order_id: number }; deadLetter: { stage: string; reason: string } }) => [m.key.order_id, m.deadLetter]));
    expect(byKey[21]).toMatchObject({ stage: 'validate' });
    expect(byKey[12]).toMatchObject({ stage: 'transform', reason: 'fx rate missing for amount 120' });
    expect(sampleRow(missing.find((m: { key: { order_id: number } }) => m.key.order_id === 12)).detail).toMatch(/^dead letter #\d+ \(transform, .*, open\): fx rate missing for amount 120$/);
  });

  it('retry after fixing the transform applies exactly the retried records once, also when SIGKILLed half-way and run again', async () => {
    useTransform('v2.ts');
    expect(() => requireSelection('retry', { format: 'text' })).toThrow(/--all for every open dead letter/);
    const marker = path.join(dir, 'hanging');
    // Chunks of 3 in source order: [10 11 12] [13 14 15] [16 17 18] [19 20]; it hangs on 17.
    const child = spawn(process.execPath, [BIN, 'dead-letters', 'retry', 'orders', '--stage', 'transform', '--batch-size', '3', '--actor', 'ana'], {
      cwd: dir, env: { ...process.env, DUALRUN_CONFIG: path.join(dir, 'dualrun.json'), DUALRUN_LOG_LEVEL: 'warn', DL_TEST_HANG_MARKER: marker, DL_TEST_HANG_ON: '17' }, stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    for (let i = 0; i < 300 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(marker)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    const mid = await db.pool.query<{ k: string; status: string }>(`SELECT record_key AS k, status FROM dualrun.dead_letters WHERE stage <> 'validate' ORDER BY record_key::int`);
    expect(Object.fromEntries(mid.rows.map((r) => [r.k, r.status]))).toEqual({
      10: 'retried', 11: 'retried', 12: 'open', 13: 'retried', 14: 'retried', 15: 'retried', 16: 'open', 17: 'open', 18: 'open', 19: 'open', 20: 'open',
    });
    expect(await writesOf(16)).toBe(0); // the killed chunk left nothing behind

    const again = await cli(['dead-letters', 'retry', 'orders', '--stage', 'transform', '--actor', 'ana', '--format', 'json']);
    expect(again.code).toBe(1); // order 12 failed again
    const r = jsonOf(again);
    expect(r.retried).toHaveLength(5);
    expect(r.failed).toEqual([expect.objectContaining({ stage: 'transform', reason: 'customer 999 is blocked' })]);
    // Exactly once: one write per retried record; 15's retried version (amount 150) is older than
    // the stream's (amount 50) and changed nothing.
    for (const id of [10, 11, 13, 14, 16, 17, 18, 19, 20]) expect(await writesOf(id), `order ${id}`).toBe(1);
    expect(await writesOf(12)).toBe(0);
    expect((await db.pool.query('SELECT amount::text, status FROM public.out WHERE order_id = 15')).rows).toEqual([{ amount: '50.00', status: 'paid' }]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(19);
    const actions = await db.pool.query<{ action: string; n: number }>(`SELECT action, count(*)::int AS n, count(DISTINCT dead_letter_id)::int AS letters FROM dualrun.dead_letter_actions GROUP BY action ORDER BY action`);
    expect(actions.rows).toEqual([{ action: 'failed_again', n: 2, letters: 1 }, { action: 'retried', n: 10, letters: 10 }]);
    const twelve = await db.pool.query(`SELECT status, retries, reason, resolved_by FROM dualrun.dead_letters WHERE record_key = '12'`);
    expect(twelve.rows).toEqual([{ status: 'open', retries: 2, reason: 'customer 999 is blocked', resolved_by: null }]);
    expect((await db.pool.query(`SELECT DISTINCT resolved_by FROM dualrun.dead_letters WHERE status = 'retried'`)).rows).toEqual([{ resolved_by: 'ana' }]);
    // Retrying an already retried letter again is a no-op.
    const done19 = (await db.pool.query<{ id: string }>(`SELECT id::text FROM dualrun.dead_letters WHERE record_key = '19'`)).rows[0].id;
    const third = await cli(['dead-letters', 'retry', 'orders', '--id', done19, '--format', 'json']);
    expect(third.code).toBe(0);
    expect(jsonOf(third)).toEqual({ dataset: 'orders', retried: [], failed: [] });
    expect(await writesOf(19)).toBe(1);
  }, 90_000);

  it('discard needs an actor and a reason and a selection, and is audited', async () => {
    expect((await cli(['dead-letters', 'discard', 'orders', '--stage', 'validate', '--actor', 'ana'])).code).toBe(2); // no --reason
    expect(() => requireSelection('discard', { format: 'text' })).toThrow(/needs a selection/);
    const d = await cli(['dead-letters', 'discard', 'orders', '--match', 'blocked', '--actor', 'ana', '--reason', 'customer 999 is a test account', '--format', 'json']);
    expect(d.code, d.stderr).toBe(0);
    const ids = jsonOf(d).discarded;
    expect(ids).toHaveLength(1);
    const show = jsonOf(await cli(['dead-letters', 'show', 'orders', ids[0], '--format', 'json']));
    expect(show).toMatchObject({ status: 'discarded', resolvedBy: 'ana', resolution: 'customer 999 is a test account' });
    expect(show.actions.map((a: { action: string }) => a.action)).toEqual(['failed_again', 'failed_again', 'discarded']);
    // Discarded and retried letters are no longer open; the validate one still is.
    expect((await listDeadLetters(db.pool, 'orders', {})).letters.map((x) => x.stage)).toEqual(['validate']);
    expect((await listDeadLetters(db.pool, 'orders', { status: 'discarded' })).total).toBe(1);
    expect((await listDeadLetters(db.pool, 'orders', { status: 'retried' })).total).toBe(10);
    await expect(db.pool.query('DELETE FROM dualrun.dead_letter_actions')).rejects.toThrow(/append-only/);
  });

  it('the nightly report counts the night\'s dead letters and top reasons, a forced promotion, and the stream\'s lag', async () => {
    const forced = await cli(['cutover', 'promote', 'orders', '--force', '--reason', 'month-end freeze', '--actor', 'ana']);
    expect(forced.code, forced.stderr).toBe(0);
    const r = await cli(['report', '--format', 'json']);
    expect(r.code).toBe(1); // the night's reconcile found the dead-lettered keys missing
    const d = JSON.parse(r.stdout).datasets[0];
    expect(d.deadLetters).toMatchObject({ newInPeriod: 12, open: 1, retriedInPeriod: 10, discardedInPeriod: 1 });
    expect(d.deadLetters.topReasons[0]).toEqual({ stage: 'transform', reason: 'customer 999 is blocked', count: 1 });
    expect(d.deadLetters.topReasons).toHaveLength(5);
    expect(d.stream).toMatchObject({ lagRecords: 0, partitions: 1, watermark: expect.any(String) });
    expect(d.stream.watermarkAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(d.events).toEqual([expect.objectContaining({ kind: 'promote', forced: true, actor: 'ana', reason: 'month-end freeze', from: 'shadow', to: 'streaming' })]);
    expect(d.events[0].missing[0]).toMatch(/consecutive clean/);
    expect(d.gate).toMatchObject({ next: 'streaming-only', eligible: false, clean: 0 });
    // `dualrun datasets` counts the open ones only (retried and discarded letters are settled).
    expect(JSON.parse((await cli(['datasets', '--format', 'json'])).stdout)[0].stream.deadLetters).toBe(1);
    await db.pool.query(`INSERT INTO public.src VALUES (22, 22, 5, 'new', '2026-11-20'), (23, 23, 5, 'new', '2026-11-20')`);
    const later = JSON.parse((await cli(['report', '--format', 'json'])).stdout).datasets[0];
    expect(later.stream.lagRecords).toBe(2);
  });
});
