/**
 * Managed batch load throughput (one window through `runWindow`: ledger row,
 * advisory lock, DELETE of the window, INSERT … SELECT, ledger success) beside
 * the ceiling: a plain `INSERT … SELECT` of the same rows into an identical empty
 * table, in the same run. Runs are interleaved and the best of each kept, so
 * machine noise hits both sides alike. A cross-database load of the same window
 * (cursor pages + unnest) is reported against the same ceiling, for information.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { BenchFigure, BenchModule } from './harness.ts';
import { compileConfig } from '../src/core/config/compile-config.ts';
import { createLogger } from '../src/core/logger.ts';
import { createRuntime } from '../src/core/runtime.ts';
import { parseWindow } from '../src/core/windows.ts';
import { runWindow } from '../legacy-batch/run-window.ts';

const TABLE = '(id bigint, day date, customer_id int, amount numeric(12,2), status text, at timestamptz)';

const bench: BenchModule = async (h) => {
  const rows = h.scale === 'quick' ? 100_000 : 1_000_000;
  const rounds = 3;
  const [url, srcUrl] = await Promise.all([createDatabase(h.pgUrl, 'bench_batch'), createDatabase(h.pgUrl, 'bench_batch_src')]);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const src = new pg.Pool({ connectionString: srcUrl, max: 1 });
  const seed = `CREATE TABLE public.orders ${TABLE};
    INSERT INTO public.orders SELECT g, DATE '2026-11-20' + (g % 2), g % 997, (g % 100000) / 100.0, (ARRAY['new','paid','shipped'])[1 + g % 3],
      TIMESTAMPTZ '2026-11-20' + g * interval '10 ms' FROM generate_series(1, ${rows * 2}) g;`;
  await Promise.all([pool.query(`${seed} CREATE TABLE public.orders_batch ${TABLE}; CREATE TABLE public.orders_plain ${TABLE}; CREATE TABLE public.orders_xdb ${TABLE};`), src.query(seed)]);
  await Promise.all([pool.query('VACUUM ANALYZE public.orders'), src.query('VACUUM ANALYZE public.orders')]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-bench-batch-'));
  const query = 'SELECT id, day, customer_id, amount, status, at FROM public.orders WHERE day >= :window_start AND day < :window_end';
  fs.writeFileSync(path.join(dir, 'q.sql'), query);
  const dataset = (output: string, source?: string) => ({
    key: ['id'], window: { column: 'day' }, batch: { output, query: 'q.sql', ...(source ? { source: { url: source } } : {}) },
    stream: { output: `${output}_stream`, source: { table: 'public.orders' } },
  });
  const config = compileConfig({ database: { url }, datasets: { orders: dataset('public.orders_batch'), xdb: dataset('public.orders_xdb', srcUrl) } }, { path: path.join(dir, 'dualrun.yaml') });
  const rt = createRuntime({ config, log: createLogger('warn') });
  const window = parseWindow('2026-11-20', 'day');
  const timed = async (fn: () => Promise<unknown>) => { const t = process.hrtime.bigint(); await fn(); return Number(process.hrtime.bigint() - t) / 1e9; };
  let managed = Infinity, plain = Infinity, xdb = Infinity;
  try {
    await rt.db(); // migrate outside the timings
    for (let i = 0; i < rounds; i++) {
      await pool.query('TRUNCATE public.orders_plain, public.orders_batch, public.orders_xdb; CHECKPOINT');
      plain = Math.min(plain, await timed(() => pool.query(`INSERT INTO public.orders_plain SELECT id, day, customer_id, amount, status, at FROM public.orders
        WHERE day >= '2026-11-20' AND day < '2026-11-21'`)));
      managed = Math.min(managed, await timed(async () => {
        const r = await runWindow(rt, config.datasets.orders, window, { trigger: 'cli' });
        if (r.status !== 'succeeded' || r.rows !== rows) throw new Error(`managed load: ${r.status} ${r.rows} ${r.error?.message ?? ''}`);
      }));
      if (i === 0) {
        xdb = await timed(async () => {
          const r = await runWindow(rt, config.datasets.xdb, window, { trigger: 'cli' });
          if (r.status !== 'succeeded' || r.rows !== rows) throw new Error(`cross-database load: ${r.status} ${r.error?.message ?? ''}`);
        });
      }
      h.note(`round ${i + 1}: plain ${plain.toFixed(2)}s, managed ${managed.toFixed(2)}s (best so far)`);
    }
  } finally {
    await rt.close();
    await Promise.all([pool.end(), src.end()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ceiling = rows / plain;
  const figures: BenchFigure[] = [{
    name: `batch managed window load (${rows.toLocaleString('en')} rows)`, value: rows / managed, unit: 'rows/s', ceiling, ceilingName: 'plain INSERT … SELECT',
    ratio: plain / managed, target: '>= 0.8', pass: plain / managed >= 0.8,
    detail: `best of ${rounds}: managed ${managed.toFixed(2)}s (ledger, lock, DELETE, INSERT … SELECT) vs plain ${plain.toFixed(2)}s`,
  }, {
    name: `batch cross-database load (${rows.toLocaleString('en')} rows)`, value: rows / xdb, unit: 'rows/s', ceiling, ceilingName: 'same-database INSERT … SELECT',
    ratio: plain / xdb, target: 'report only', pass: true,
    detail: `cursor pages + unnest casts from another database, one run: ${xdb.toFixed(2)}s`,
  }];
  return figures;
};

async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export default bench;
