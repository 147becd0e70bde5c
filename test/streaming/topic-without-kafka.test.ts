/** Regression: replay --from-time on a topic source without `kafka` crashed with a TypeError (exit 3). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { ORDERS_DDL } from './support.ts';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase('stream_nokafka');
  await db.pool.query(ORDERS_DDL('public.out'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-nokafka-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), `database: { url: "${db.url}" }
datasets:
  orders:
    key: [order_id]
    batch: { output: public.b }
    stream: { output: public.out, source: { topic: shop.orders, format: json } }
`);
});
afterAll(async () => { await db?.drop(); fs.rmSync(dir, { recursive: true, force: true }); });

it('regression: a topic source without a kafka section is a config error (exit 2) for the worker and for replay --from-time', async () => {
  await runCli(['cutover', 'promote', 'orders', '--reason', 'test'], { cwd: dir, env: { DUALRUN_CONFIG: undefined } });
  for (const args of [['stream', '--dataset', 'orders', '--until-idle'], ['stream', '--dataset', 'orders', '--from-time', '2026-11-01T00:00:00Z', '--reset-output', '--until-idle']]) {
    const r = await runCli(args, { cwd: dir, env: { DUALRUN_CONFIG: undefined } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('datasets.orders.stream.source: topic shop.orders needs a `kafka` section');
  }
}, 60_000);
