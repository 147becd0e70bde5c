/**
 * Source write overhead of change capture (issue 13): 200k single-row inserts and
 * updates (autocommit, as OLTP writers do) from 4 writers into a source table with
 * (a) no capture, (b) trigger capture (dualrun.changelog), (c) logical capture (a
 * replication slot, pgoutput). Capture is installed but no worker runs, so only
 * what capture costs the writers is measured. Target: (c) adds ≤ 10% to (a).
 * The bench server runs with wal_level = logical throughout (the embedded default);
 * the writers' sessions use synchronous_commit = off so commits are not fsync-bound.
 */
import pg from 'pg';
import { migrate } from '../src/core/db/migrate.ts';
import { parseTableRef } from '../src/core/identifiers.ts';
import { installCapture } from '../streaming/capture/capture-triggers.ts';
import { installLogicalCapture, removeLogicalCapture } from '../streaming/capture/logical-slot.ts';
import type { BenchFigure, BenchModule } from './harness.ts';

const WRITERS = 4;

async function recreate(serverUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  await c.query('DROP DATABASE IF EXISTS bench_capture WITH (FORCE)');
  await c.query('CREATE DATABASE bench_capture');
  await c.end();
  const u = new URL(serverUrl); u.pathname = '/bench_capture';
  return u.toString();
}

/** Each writer inserts its share of keys, then updates each once: one statement, one commit each. */
async function write(url: string, table: string, ops: number): Promise<number> {
  const per = Math.floor(ops / WRITERS / 2);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // The writers' own session: without it every commit waits for an fsync, which hides
    // what capture costs in CPU and WAL behind the disk (the harder comparison for capture).
    await c.query('SET synchronous_commit = off');
    try {
      for (let i = 0; i < per; i++) await c.query(`INSERT INTO ${table} VALUES ($1, $2, 'new', now())`, [w * per + i, i % 1000]);
      for (let i = 0; i < per; i++) await c.query(`UPDATE ${table} SET amount = amount + 1, status = 'paid' WHERE id = $1`, [w * per + i]);
    } finally { await c.end(); }
  }));
  return (performance.now() - t0) / 1000;
}

const bench: BenchModule = async (h) => {
  const ops = h.scale === 'quick' ? 20_000 : 200_000;
  const url = await recreate(h.pgUrl);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await migrate(pool);
    const seconds: Record<'none' | 'trigger' | 'logical', number> = { none: 0, trigger: 0, logical: 0 };
    for (const mode of ['none', 'trigger', 'logical'] as const) {
      const table = `public.src_${mode}`;
      await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, amount numeric(12,2), status text, updated_at timestamptz)`);
      if (mode === 'trigger') await installCapture(pool, parseTableRef(table)!);
      if (mode === 'logical') await installLogicalCapture(pool, 'bench_capture_overhead', parseTableRef(table)!);
      seconds[mode] = await write(url, table, ops);
      h.note(`capture overhead: ${mode}: ${ops} single-row writes from ${WRITERS} writers in ${seconds[mode].toFixed(2)} s`);
    }
    await removeLogicalCapture(pool, 'bench_capture_overhead');
    const ratio = seconds.logical / seconds.none;
    const figure: BenchFigure = {
      name: `source write time with logical capture, ${ops / 1000}k single-row writes from ${WRITERS} writers`, value: seconds.logical, unit: 's',
      ceiling: seconds.none, ceilingName: 'no capture', ratio, target: '<= 1.10', pass: ratio <= 1.1,
      detail: `no capture ${seconds.none.toFixed(2)} s; trigger capture ${seconds.trigger.toFixed(2)} s (${(seconds.trigger / seconds.none).toFixed(2)}x); logical ${seconds.logical.toFixed(2)} s`,
    };
    return [figure];
  } finally {
    await pool.end();
    const c = new pg.Client({ connectionString: h.pgUrl });
    await c.connect();
    await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'dualrun_bench_capture_overhead'`).catch(() => undefined);
    await c.query('DROP DATABASE IF EXISTS bench_capture WITH (FORCE)').catch(() => undefined);
    await c.end();
  }
};

export default bench;
