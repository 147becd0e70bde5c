/**
 * Webhook alerts from real commands to a local receiver: a dead-letter burst
 * (`stream --until-idle` above stream.maxDeadLetterRate, exit 1), a mismatch
 * (`reconcile`), a refused promotion and a rollback each deliver exactly one
 * request with the documented body; a receiver failing twice gets the event on
 * the third try; the URL's secret never reaches stderr or stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { runCli, type CliResult } from '../../../support/cli.ts';
import { startReceiver, type WebhookReceiver } from '../../../support/webhook-receiver.ts';
import { installCapture } from '../../../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../../../src/core/identifiers.ts';
import { FIXTURES, ORDERS_DDL, setStage, setupToolkit } from '../../../streaming/support.ts';

const SECRET = 'xoxb-s3cr3t-T0K3N-4242';
let db: TestDatabase;
let receiver: WebhookReceiver;
let file: string;
const runs: CliResult[] = [];

beforeAll(async () => {
  db = await createTestDatabase('alerts');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; ${ORDERS_DDL('public.out')}; ${ORDERS_DDL('public.b')}`);
  await installCapture(db.pool, parseTableRef('public.src')!);
  await setStage(db.pool, 'orders', 'shadow');
  receiver = await startReceiver();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-alerts-'));
  file = path.join(dir, 'dualrun.yaml');
  fs.writeFileSync(file, JSON.stringify({
    database: { url: db.url },
    alerts: { webhooks: [
      { url: '${HOOK_BASE}/services/T0/B0/${HOOK_TOKEN}', events: ['mismatch', 'gate_refused', 'dead_letter_rate'] },
      { url: '${HOOK_BASE}/flaky/${HOOK_TOKEN}', events: ['mismatch'] },
      { url: '${HOOK_BASE}/changes/${HOOK_TOKEN}', events: ['promoted', 'rolled_back'] },
    ] },
    datasets: { orders: {
      key: ['order_id'], batch: { output: 'public.b' },
      stream: { output: 'public.out', source: { table: 'public.src' }, schema: path.join(FIXTURES, 'orders.schema.json'), maxDeadLetterRate: { ratio: 0.1, window: 100 } },
    } },
  }, null, 2));
});
afterAll(async () => { await receiver?.close(); await db?.drop(); });

const env = () => ({ HOOK_BASE: receiver.url, HOOK_TOKEN: SECRET, DUALRUN_ALERT_BACKOFF_MS: '200' });
async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(['--config', file, '--log-level', 'debug', ...args], { env: env() });
  runs.push(r);
  return r;
}

const MAIN = `/services/T0/B0/${SECRET}`;

function expectBody(b: Record<string, unknown>, event: string, window: string | null): void {
  expect(Object.keys(b).sort()).toEqual(['at', 'dataset', 'details', 'event', 'text', 'window']);
  expect(b).toMatchObject({ event, dataset: 'orders', window });
  expect(typeof b.text).toBe('string');
  expect(b.text).toMatch(/^dualrun: .+\(orders\b/);
  expect(Math.abs(Date.parse(String(b.at)) - Date.now())).toBeLessThan(120_000);
}

it('a dead-letter burst: one dead_letter_rate alert and --until-idle exits 1', { timeout: 60_000 }, async () => {
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 2.00, 'paid', '2026-11-20' FROM generate_series(1, 30) g`);
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 2.00, 'weird', '2026-11-20' FROM generate_series(31, 50) g`);
  const r = await cli(['stream', '--until-idle', '--format', 'json']);
  expect(r.code, r.stderr).toBe(1);
  expect(JSON.parse(r.stdout).datasets[0]).toMatchObject({ applied: 30, deadLettered: 20, deadLetterRateExceeded: { deadLettered: 20, records: 50, ratio: 0.1, window: 100 } });
  const got = receiver.requests.filter((q) => q.path === MAIN);
  expect(got).toHaveLength(1);
  expect(got[0].contentType).toBe('application/json');
  expectBody(got[0].body, 'dead_letter_rate', null);
  expect(got[0].body.details).toEqual({ deadLettered: 20, records: 50, ratio: 0.1, window: 100 });
});

it('a mismatch: one request per webhook, and the receiver that fails twice gets it on the third try', { timeout: 60_000 }, async () => {
  receiver.failNext(`/flaky/${SECRET}`, 2);
  await db.pool.query(`INSERT INTO public.b SELECT order_id, customer_id, CASE WHEN order_id = 7 THEN 9.99 ELSE amount END, status, order_date FROM public.out`);
  const r = await cli(['reconcile', 'orders', '--assume-settled']);
  expect(r.code, r.stderr).toBe(1);
  const main = receiver.requests.filter((q) => q.path === MAIN && q.body.event === 'mismatch');
  expect(main).toHaveLength(1);
  expectBody(main[0].body, 'mismatch', null);
  expect(main[0].body.details).toMatchObject({ changed: 1, missingInStream: 0, missingInBatch: 0, columns: { amount: 1 }, batchRows: 30, streamRows: 30 });
  const flaky = receiver.requests.filter((q) => q.path === `/flaky/${SECRET}`);
  expect(flaky.map((q) => q.status)).toEqual([500, 500, 200]);
  expect(flaky[2].body).toEqual(main[0].body);
});

it('a refused promotion: one gate_refused alert; a rollback and a promotion: one rolled_back and one promoted alert to the webhook that wants them', { timeout: 60_000 }, async () => {
  const refused = await cli(['cutover', 'promote', 'orders', '--reason', 'looks fine']);
  expect(refused.code, refused.stderr).toBe(1);
  const gate = receiver.requests.filter((q) => q.path === MAIN && q.body.event === 'gate_refused');
  expect(gate).toHaveLength(1);
  expectBody(gate[0].body, 'gate_refused', null);
  expect(gate[0].body.details).toMatchObject({ from: 'shadow', to: 'streaming', clean: 0 });

  const back = await cli(['cutover', 'rollback', 'orders', '--reason', 'drill', '--actor', 'ops']);
  expect(back.code, back.stderr).toBe(0);
  const changes = receiver.requests.filter((q) => q.path === `/changes/${SECRET}`);
  expect(changes).toHaveLength(1);
  expectBody(changes[0].body, 'rolled_back', null);
  expect(changes[0].body.details).toMatchObject({ from: 'shadow', to: 'batch', actor: 'ops', reason: 'drill', forced: false });
  const forced = await cli(['cutover', 'promote', 'orders', '--force', '--reason', 'data team sign-off', '--actor', 'lead']);
  expect(forced.code, forced.stderr).toBe(0);
  const promoted = receiver.requests.filter((q) => q.path === `/changes/${SECRET}`).slice(1);
  expect(promoted).toHaveLength(1);
  expectBody(promoted[0].body, 'promoted', null);
  expect(promoted[0].body.details).toMatchObject({ from: 'batch', to: 'shadow', actor: 'lead', reason: 'data team sign-off' });
  // Every event reached only the webhooks subscribed to it, once.
  expect(receiver.requests.filter((q) => q.path === MAIN).map((q) => q.body.event)).toEqual(['dead_letter_rate', 'mismatch', 'gate_refused']);
});

it('the webhook secret never appears in logs or output (debug level, retries included)', () => {
  expect(runs.length).toBe(5);
  const all = runs.map((r) => r.stderr + r.stdout).join('\n');
  expect(all).toContain('alert delivery failed, retrying');
  expect(all).toContain(`"webhook":"${receiver.url}"`);
  expect(all).not.toContain(SECRET);
  expect(all).not.toContain('/services/T0/B0');
});
