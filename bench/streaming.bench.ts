/**
 * Streaming benchmarks (issue 4), each beside a ceiling from the same run:
 *   - end-to-end Kafka → Postgres exactly-once rows/s (the real CLI worker in a
 *     child process) vs a raw bulk upsert of the same rows from one connection
 *     (unnest arrays + ON CONFLICT, batches of 5000, no positions): target ≥ 0.6;
 *   - p50/p99 produce-to-visible latency at a steady 5k events/s (a reader polls
 *     the output every 5 ms): target p99 < 500 ms;
 *   - peak RSS of the worker process at 1M vs 5M events: target flat (ratio ≥ 0.8).
 * Needs KAFKA_BROKERS. BENCH_SCALE=quick: 100k and 500k events, 8 s of latency.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { migrate } from '../src/db/migrate.ts';
import type { BenchFigure, BenchHarness, BenchModule } from './harness.ts';

const { Kafka, logLevel } = kafkajs;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'dualrun.js');
const KEYS = 200_000;

interface Ctx { h: BenchHarness; url: string; pool: pg.Pool; kafka: InstanceType<typeof Kafka>; dir: string; tag: string }

const bench: BenchModule = async (h) => {
  if (h.kafkaBrokers.length === 0) { h.note('streaming: KAFKA_BROKERS not set, skipped'); return []; }
  const ctx = await setup(h);
  const quick = h.scale === 'quick';
  const [small, large] = quick ? [100_000, 500_000] : [1_000_000, 5_000_000];
  try {
    const e2e = await endToEnd(ctx, 'small', small);
    const ceiling = await rawUpsertCeiling(ctx, small);
    const lat = await latency(ctx, 5000, quick ? 8 : 20);
    const big = await endToEnd(ctx, 'large', large);
    const figures: BenchFigure[] = [
      { name: `stream Kafka→Postgres exactly-once ${fmtCount(small)} events`, value: e2e.rowsPerSec, unit: 'rows/s', ceiling: ceiling, ceilingName: 'raw bulk upsert, one connection',
        ratio: e2e.rowsPerSec / ceiling, target: '>= 0.6', pass: e2e.rowsPerSec / ceiling >= 0.6, detail: `worker active ${e2e.activeSeconds}s; ${e2e.applied} applied` },
      { name: 'stream p99 produce-to-visible at 5k events/s', value: lat.p99, unit: 'ms', ceiling: 500, ceilingName: 'budget', ratio: 500 / lat.p99, target: '>= 1 (p99 < 500 ms)', pass: lat.p99 < 500,
        detail: `p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms over ${lat.n} events at ${lat.rate.toFixed(0)} events/s` },
      { name: `stream worker peak RSS ${fmtCount(large)} events`, value: big.maxRssMb, unit: 'MB', ceiling: e2e.maxRssMb, ceilingName: `peak RSS at ${fmtCount(small)}`,
        ratio: e2e.maxRssMb / big.maxRssMb, target: '>= 0.8 (flat)', pass: e2e.maxRssMb / big.maxRssMb >= 0.8, detail: `${big.rowsPerSec} rows/s over ${fmtCount(large)}` },
    ];
    return figures;
  } finally {
    await deleteTopics(ctx).catch(() => undefined);
    await ctx.pool.end();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  }
};

/** The bench's topics hold millions of events: remove them from the shared broker. */
async function deleteTopics(ctx: Ctx): Promise<void> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.startsWith('bench.') && t.endsWith(`.${ctx.tag}`));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  await admin.disconnect();
}
export default bench;

function fmtCount(n: number): string { return n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`; }

async function setup(h: BenchHarness): Promise<Ctx> {
  const admin = new pg.Client({ connectionString: h.pgUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_stream WITH (FORCE)');
  await admin.query('CREATE DATABASE bench_stream');
  await admin.end();
  const u = new URL(h.pgUrl); u.pathname = '/bench_stream';
  const pool = new pg.Pool({ connectionString: u.toString(), max: 4 });
  await migrate(pool);
  await pool.query('CREATE SCHEMA bench');
  const kafka = new Kafka({ brokers: h.kafkaBrokers, clientId: 'dualrun-bench', logLevel: logLevel.NOTHING });
  return { h, url: u.toString(), pool, kafka, dir: fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-bench-stream-')), tag: crypto.randomBytes(3).toString('hex') };
}

const COLUMNS = 'id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL, updated_ms bigint NOT NULL';

function rowFor(i: number) {
  const id = (i % KEYS) + 1;
  return { id, customer_id: id % 1000, amount: ((i * 7) % 100000) / 100, status: i % 3 === 0 ? 'paid' : 'new', updated_ms: i };
}

/** Writes a config for one dataset and returns its path. */
async function datasetConfig(ctx: Ctx, name: string, topic: string, table: string): Promise<string> {
  await ctx.pool.query(`CREATE TABLE ${table} (${COLUMNS})`);
  await ctx.pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ($1, 'shadow')`, [name]);
  const file = path.join(ctx.dir, `${name}.json`);
  const cfg = { database: { url: ctx.url }, kafka: { brokers: ctx.h.kafkaBrokers, groupPrefix: `bench${ctx.tag}` },
    datasets: { [name]: { key: ['id'], batch: { output: `${table}_batch` }, stream: { output: table, source: { topic, format: 'debezium' } } } } };
  fs.writeFileSync(file, JSON.stringify(cfg));
  return file;
}

async function createTopic(ctx: Ctx, topic: string, partitions: number): Promise<void> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

async function produceEvents(ctx: Ctx, topic: string, count: number): Promise<void> {
  const producer = ctx.kafka.producer();
  await producer.connect();
  const chunk = 5000;
  const inflight: Promise<unknown>[] = [];
  for (let lo = 0; lo < count; lo += chunk) {
    const messages = [];
    for (let i = lo; i < Math.min(lo + chunk, count); i++) {
      const after = rowFor(i);
      messages.push({ key: `{"id":${after.id}}`, value: JSON.stringify({ op: i < KEYS ? 'c' : 'u', before: null, after, source: { lsn: i + 1, ts_ms: Date.now() }, ts_ms: Date.now() }) });
    }
    inflight.push(producer.send({ topic, messages }));
    if (inflight.length >= 8) await inflight.shift();
  }
  await Promise.all(inflight);
  await producer.disconnect();
}

function runWorker(config: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', config, 'stream', ...args], { env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function endToEnd(ctx: Ctx, name: string, events: number): Promise<{ rowsPerSec: number; activeSeconds: number; applied: number; maxRssMb: number }> {
  const topic = `bench.${name}.${ctx.tag}`;
  await createTopic(ctx, topic, 3);
  const t = Date.now();
  await produceEvents(ctx, topic, events);
  ctx.h.note(`streaming: produced ${events} events to ${topic} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  const config = await datasetConfig(ctx, `e2e_${name}`, topic, `bench.e2e_${name}`);
  const r = await runWorker(config, ['--until-idle', '--format', 'json']);
  if (r.code !== 0) throw new Error(`worker exited ${r.code}: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as { datasets: { rowsPerSec: number; activeSeconds: number; applied: number }[]; maxRssMb: number };
  const d = s.datasets[0];
  const rows = await ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM bench.e2e_${name}`);
  if (d.applied !== events || rows.rows[0].n !== Math.min(events, KEYS)) throw new Error(`e2e ${name}: applied ${d.applied}, rows ${rows.rows[0].n}`);
  ctx.h.note(`streaming: e2e ${events} events: ${d.rowsPerSec} rows/s, peak RSS ${s.maxRssMb} MB`);
  return { rowsPerSec: d.rowsPerSec, activeSeconds: d.activeSeconds, applied: d.applied, maxRssMb: s.maxRssMb };
}

/** The same rows upserted as fast as one connection can: unnest arrays + ON CONFLICT, 5000 per statement. */
async function rawUpsertCeiling(ctx: Ctx, events: number): Promise<number> {
  await ctx.pool.query(`CREATE TABLE bench.ceiling (${COLUMNS})`);
  const c = await ctx.pool.connect();
  try {
    const t = process.hrtime.bigint();
    for (let lo = 0; lo < events; lo += 5000) {
      const rows = Array.from({ length: Math.min(5000, events - lo) }, (_, j) => rowFor(lo + j));
      await c.query(
        `INSERT INTO bench.ceiling SELECT * FROM unnest($1::int[], $2::int[], $3::numeric[], $4::text[], $5::bigint[])
         ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, status = EXCLUDED.status, updated_ms = EXCLUDED.updated_ms`,
        [rows.map((r) => r.id), rows.map((r) => r.customer_id), rows.map((r) => r.amount), rows.map((r) => r.status), rows.map((r) => r.updated_ms)]);
    }
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    const rate = Math.round(events / secs);
    ctx.h.note(`streaming: raw bulk upsert ceiling ${rate} rows/s`);
    return rate;
  } finally {
    c.release();
  }
}

/** A running worker; events produced at a steady rate; a reader polls for each id's arrival. */
async function latency(ctx: Ctx, rate: number, seconds: number): Promise<{ p50: number; p99: number; max: number; n: number; rate: number }> {
  const topic = `bench.latency.${ctx.tag}`;
  await createTopic(ctx, topic, 1); // one partition: ids become visible in order, so the reader can poll `id > last`
  const config = await datasetConfig(ctx, 'latency', topic, 'bench.latency');
  const child = spawn(process.execPath, [BIN, '--config', config, 'stream'], { env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const producer = ctx.kafka.producer();
  await producer.connect();
  const sentAt = new Map<number, number>();
  const seen: number[] = [];
  let next = 1;
  const send = async (n: number) => {
    const messages = [];
    for (let k = 0; k < n; k++, next++) {
      sentAt.set(next, performance.now() + performance.timeOrigin);
      messages.push({ key: `{"id":${next}}`, value: JSON.stringify({ op: 'c', after: { id: next, customer_id: 1, amount: 1, status: 'new', updated_ms: 0 }, source: { lsn: next, ts_ms: Date.now() } }) });
    }
    await producer.send({ topic, messages });
  };
  // Warm up: wait until the worker has joined and applied a first event.
  await send(1);
  for (let i = 0; i < 600; i++) { if ((await ctx.pool.query('SELECT 1 FROM bench.latency LIMIT 1')).rowCount) break; await sleep(100); }
  sentAt.clear();
  let stopPoll = false;
  let lastId = 1;
  const poll = (async () => {
    while (!stopPoll) {
      const r = await ctx.pool.query<{ id: number }>('SELECT id FROM bench.latency WHERE id > $1', [lastId]);
      const now = performance.now() + performance.timeOrigin;
      for (const { id } of r.rows) { const s = sentAt.get(id); if (s !== undefined) { seen.push(now - s); sentAt.delete(id); } if (id > lastId) lastId = id; }
      await sleep(5);
    }
  })();
  const start = performance.now();
  const tickMs = 10;
  const perTick = Math.round((rate * tickMs) / 1000);
  let ticks = 0;
  while (performance.now() - start < seconds * 1000) {
    await send(perTick);
    ticks++;
    const due = start + ticks * tickMs - performance.now();
    if (due > 0) await sleep(due);
  }
  const actualRate = (ticks * perTick) / ((performance.now() - start) / 1000);
  for (let i = 0; i < 200 && sentAt.size > 0; i++) await sleep(50);
  stopPoll = true;
  await poll;
  await producer.disconnect();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('close', r));
  if (sentAt.size > 0) throw new Error(`latency: ${sentAt.size} events never became visible`);
  seen.sort((a, b) => a - b);
  const q = (p: number) => seen[Math.min(seen.length - 1, Math.floor(p * seen.length))];
  return { p50: q(0.5), p99: q(0.99), max: seen[seen.length - 1], n: seen.length, rate: actualRate };
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
