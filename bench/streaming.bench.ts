/**
 * Streaming (issue 13), each figure beside what is measured in the same run, on
 * a default-settings Postgres and the real broker:
 *   - end-to-end: `dualrun stream --until-idle` (the real CLI, timed from its start
 *     to idle) over 1M plain-JSON events (200k keys, inserts, updates, 5% deletes,
 *     20% duplicates, 8 partitions) vs the ceiling: the slower of (a) a bare kafkajs
 *     consumer (fresh group, from the beginning) JSON-parsing every event and (b)
 *     Postgres ingesting the same events from one connection by the faster of an
 *     `unnest` upsert and COPY into staging + one newest-wins merge. Target ≥ 0.7.
 *   - the output is exactly the newest version of every key (deletes applied);
 *   - worker peak RSS at 1M and 5M events (≤ 150 MB);
 *   - 1, 2 and 4 workers in one consumer group on the 8 partitions: wall time and
 *     CPU-seconds per million events per worker (for the projection in docs);
 *   - p50/p99 produce-to-visible latency at a steady 5k events/s.
 * Needs KAFKA_BROKERS. BENCH_SCALE=quick: 100k and 500k events, 8 s of latency.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { migrate } from '../src/core/db/migrate.ts';
import type { BenchFigure, BenchHarness, BenchModule } from './harness.ts';

const { Kafka, logLevel, CompressionTypes } = kafkajs;
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '..', 'bin', 'dualrun.js');
const USAGE = path.join(here, 'fixtures', 'proc-usage.mjs');
const KEYS = 200_000;
const PARTITIONS = 8;
const RSS_CEILING_MB = 150;
const OUTPUT_COLUMNS = 'id int PRIMARY KEY, customer_id int, amount numeric(12,2), status text';
const CEILING_COLUMNS = `${OUTPUT_COLUMNS}, lsn bigint NOT NULL, deleted boolean NOT NULL`;

interface Ctx { h: BenchHarness; url: string; pool: pg.Pool; kafka: InstanceType<typeof Kafka>; dir: string; tag: string }
interface Topic { name: string; events: number; csv: string }

const bench: BenchModule = async (h) => {
  if (h.kafkaBrokers.length === 0) { h.note('streaming: KAFKA_BROKERS not set, skipped'); return []; }
  const ctx = await setup(h);
  const quick = h.scale === 'quick';
  const [small, large] = quick ? [100_000, 500_000] : [1_000_000, 5_000_000];
  try {
    const topic = await produceTopic(ctx, 'e2e', small);
    const one = await workers(ctx, topic, 1);
    const ceiling = await ceilingSeconds(ctx, topic);
    await assertExact(ctx, one.table, 'bench.ceil_copy');
    const two = await workers(ctx, topic, 2);
    const four = await workers(ctx, topic, 4);
    for (const r of [two, four]) await assertExact(ctx, r.table, 'bench.ceil_copy');
    const bigTopic = await produceTopic(ctx, 'large', large);
    const big = await workers(ctx, bigTopic, 1);
    const lat = await latency(ctx, 5000, quick ? 8 : 20);
    const ratio = ceiling.seconds / one.seconds;
    const scale = [one, two, four].map((r) => scaleLine(r, small)).join('; ');
    return [
      { name: `stream Kafka→Postgres exactly-once ${fmtCount(small)} events (8 partitions, 20% duplicates, deletes)`, value: one.seconds, unit: 's', ceiling: ceiling.seconds,
        ceilingName: 'slower of bare kafkajs consume+parse and fastest Postgres ingest', ratio, target: '>= 0.7 (ceiling time / dualrun time)', pass: ratio >= 0.7,
        detail: `consume+parse ${ceiling.consume.toFixed(2)} s; Postgres COPY+merge ${fmtS(ceiling.copy)}, unnest upsert ${ceiling.unnest.toFixed(2)} s; output exact` },
      rssFigure(`stream worker peak RSS ${fmtCount(small)} events`, one.maxRssMb),
      rssFigure(`stream worker peak RSS ${fmtCount(large)} events`, big.maxRssMb),
      { name: `stream scale-out on ${PARTITIONS} partitions, 4 workers vs 1`, value: four.seconds, unit: 's', ceiling: one.seconds, ceilingName: '1 worker', ratio: one.seconds / four.seconds,
        target: 'printed (2 cores: see docs/streaming.md for the projection)', pass: true, detail: `${scale}; every run exact` },
      { name: 'stream p99 produce-to-visible at 5k events/s', value: lat.p99, unit: 'ms', ceiling: 500, ceilingName: 'budget', ratio: 500 / lat.p99, target: '>= 1 (p99 < 500 ms)', pass: lat.p99 < 500,
        detail: `p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms over ${lat.n} events at ${lat.rate.toFixed(0)} events/s` },
    ];
  } finally {
    await deleteTopics(ctx).catch(() => undefined);
    await ctx.pool.end();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  }
};
export default bench;

interface WorkersRun { n: number; seconds: number; cpuSeconds: number; maxRssMb: number; table: string; perWorker: { applied: number; cpuSeconds: number; rssMb: number }[] }

/**
 * One line per run for the projection in docs/streaming.md: throughput of the group and
 * per worker, and CPU-seconds per million events (for the group, and each worker over
 * the events it applied), so what one core does can be scaled past this machine.
 */
function scaleLine(r: WorkersRun, events: number): string {
  // A worker that joined after the others had taken every partition applies nothing (its CPU is start-up and idling).
  const each = r.perWorker.map((w, i) => `#${i + 1} ${w.applied} events, ${w.cpuSeconds.toFixed(1)} CPU-s${w.applied > 0 ? ` (${(w.cpuSeconds / (w.applied / 1e6)).toFixed(1)}/M)` : ''}, ${w.rssMb} MB`).join(', ');
  return `${r.n} worker(s): ${r.seconds.toFixed(2)} s wall, ${Math.round(events / r.seconds)} events/s (${Math.round(events / r.seconds / r.n)} per worker), `
    + `${(r.cpuSeconds / (events / 1e6)).toFixed(1)} CPU-s per M events in all [${each}], peak RSS ${r.maxRssMb} MB`;
}

function fmtCount(n: number): string { return n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`; }
function fmtS(s: number | null): string { return s === null ? 'n/a (no psql)' : `${s.toFixed(2)} s`; }

function rssFigure(name: string, mb: number): BenchFigure {
  return { name, value: mb, unit: 'MB', ceiling: RSS_CEILING_MB, ceilingName: 'issue 13 ceiling', ratio: mb / RSS_CEILING_MB, target: '<= 1', pass: mb <= RSS_CEILING_MB };
}

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

async function deleteTopics(ctx: Ctx): Promise<void> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.startsWith('bench.') && t.endsWith(`.${ctx.tag}`));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  await admin.disconnect();
}

/**
 * Event j (1-based, of the distinct ones) changes key ((j * 7919) mod KEYS) + 1 at version j;
 * every 20th is a delete. After every 4 distinct events one of the last few is sent again
 * (20% of all events are duplicates, redelivered later in their partition).
 */
function* events(total: number): Generator<{ id: number; lsn: number; deleted: boolean; customer_id: number; amount: string; status: string }> {
  const distinct = (j: number) => {
    const id = ((j * 7919) % KEYS) + 1;
    return { id, lsn: j, deleted: j % 20 === 0, customer_id: id % 1000, amount: ((j % 100000) / 100).toFixed(2), status: `s${j % 7}` };
  };
  let j = 0;
  for (let i = 0; i < total; i++) {
    if (i % 5 === 4 && j > 3) yield distinct(j - (i % 3));
    else yield distinct(++j);
  }
}

/** Produces the events to a fresh 8-partition topic (keyed by id) and writes them as CSV for the ceiling. */
async function produceTopic(ctx: Ctx, name: string, count: number): Promise<Topic> {
  const topic = `bench.${name}.${ctx.tag}`;
  const admin = ctx.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const csv = path.join(ctx.dir, `${name}.csv`);
  const out = fs.createWriteStream(csv);
  const producer = ctx.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t = Date.now();
  let batch: { key: string; value: string }[] = [];
  const inflight: Promise<unknown>[] = [];
  const flush = async () => {
    inflight.push(producer.send({ topic, messages: batch, compression: CompressionTypes.None }));
    batch = [];
    if (inflight.length >= 8) await inflight.shift();
  };
  for (const e of events(count)) {
    const value = e.deleted ? { id: e.id, __deleted: 'true', __lsn: e.lsn } : { id: e.id, customer_id: e.customer_id, amount: e.amount, status: e.status, __lsn: e.lsn };
    if (!out.write(`${e.id},${e.deleted ? '' : e.customer_id},${e.deleted ? '' : e.amount},${e.deleted ? '' : e.status},${e.lsn},${e.deleted}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    batch.push({ key: JSON.stringify({ id: e.id }), value: JSON.stringify(value) });
    if (batch.length === 5000) await flush();
  }
  if (batch.length > 0) await flush();
  await Promise.all(inflight);
  await producer.disconnect();
  await new Promise<void>((r) => out.end(() => r()));
  ctx.h.note(`streaming: produced ${count} events to ${topic} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { name: topic, events: count, csv };
}

let datasetSeq = 0;

/** N `dualrun stream --until-idle` processes in one consumer group over the topic, into a fresh output table. */
async function workers(ctx: Ctx, topic: Topic, n: number): Promise<WorkersRun> {
  const name = `s${++datasetSeq}_${n}w`;
  const table = `bench.${name}`;
  await ctx.pool.query(`CREATE TABLE ${table} (${OUTPUT_COLUMNS})`);
  await ctx.pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ($1, 'shadow')`, [name]);
  const config = path.join(ctx.dir, `${name}.json`);
  fs.writeFileSync(config, JSON.stringify({ database: { url: ctx.url }, kafka: { brokers: ctx.h.kafkaBrokers, groupPrefix: `bench${ctx.tag}` },
    datasets: { [name]: { key: ['id'], batch: { output: `${table}_batch` }, stream: { output: table, source: { topic: topic.name, format: 'json' } } } } }));
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, (_, i) => worker(ctx, config, name, i)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = runs.reduce((a, r) => a + r.cpuSeconds, 0);
  const maxRssMb = Math.max(...runs.map((r) => Math.round(r.rssKb / 1024)));
  const perWorker = runs.map((r) => ({ applied: r.applied, cpuSeconds: r.cpuSeconds, rssMb: Math.round(r.rssKb / 1024) }));
  const applied = perWorker.reduce((a, w) => a + w.applied, 0);
  // Exactly once across the group: together the workers applied every event once (none is poison here).
  if (applied !== topic.events) throw new Error(`${n} worker(s) applied ${applied} events of ${topic.events}`);
  const run = { n, seconds, cpuSeconds, maxRssMb, table, perWorker };
  ctx.h.note(`streaming: ${scaleLine(run, topic.events)}`);
  return run;
}

function worker(ctx: Ctx, config: string, dataset: string, i: number): Promise<{ rssKb: number; cpuSeconds: number; applied: number }> {
  const usage = path.join(ctx.dir, `${dataset}.${i}.usage.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', USAGE, BIN, '--config', config, 'stream', '--dataset', dataset, '--until-idle', '--format', 'json'], {
      env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn', DUALRUN_PROC_USAGE_FILE: usage }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) { reject(new Error(`worker ${dataset}#${i} exited ${code}: ${stderr.slice(-2000)}`)); return; }
      const summary = JSON.parse(stdout) as { datasets?: { applied?: number }[] };
      const applied = (summary.datasets ?? []).reduce((a, d) => a + Number(d.applied ?? 0), 0);
      resolve({ ...(JSON.parse(fs.readFileSync(usage, 'utf8')) as { rssKb: number; cpuSeconds: number }), applied });
    });
  });
}

/** The slower of the two unavoidable stages; Postgres's side is the faster of its two ways. */
async function ceilingSeconds(ctx: Ctx, topic: Topic): Promise<{ seconds: number; consume: number; copy: number | null; unnest: number }> {
  const consume = await bareConsumer(ctx, topic);
  const copy = await copyMerge(ctx, topic);
  const unnest = await unnestUpsert(ctx, topic);
  await assertExact(ctx, '(SELECT * FROM bench.ceil_unnest WHERE NOT deleted)', 'bench.ceil_copy');
  const pgSide = copy === null ? unnest : Math.min(copy, unnest);
  return { seconds: Math.max(consume, pgSide), consume, copy, unnest };
}

async function bareConsumer(ctx: Ctx, topic: Topic): Promise<number> {
  const c = ctx.kafka.consumer({ groupId: `bench-bare-${ctx.tag}-${crypto.randomBytes(3).toString('hex')}`, maxBytesPerPartition: 2 * 1024 * 1024, maxBytes: 8 * 1024 * 1024, maxWaitTimeInMs: 100 });
  const t0 = performance.now();
  await c.connect();
  await c.subscribe({ topic: topic.name, fromBeginning: true });
  let seen = 0;
  let sum = 0;
  await new Promise<void>((resolve) => {
    void c.run({ partitionsConsumedConcurrently: PARTITIONS, eachBatch: async ({ batch }) => {
      for (const m of batch.messages) { sum += (JSON.parse(m.value!.toString()) as { id: number }).id; seen++; }
      if (seen >= topic.events) resolve();
    } });
  });
  const secs = (performance.now() - t0) / 1000;
  await c.disconnect();
  ctx.h.note(`streaming: bare kafkajs consumer ${secs.toFixed(2)} s (checksum ${sum})`);
  return secs;
}

const MERGE = (table: string, from: string) => `INSERT INTO ${table} SELECT DISTINCT ON (id) id, customer_id, amount, status, lsn, deleted FROM ${from} ORDER BY id, lsn DESC
  ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, status = EXCLUDED.status, lsn = EXCLUDED.lsn, deleted = EXCLUDED.deleted
  WHERE ${table}.lsn < EXCLUDED.lsn`;

/** psql `\copy` into a temporary staging table + one newest-wins merge (deletes kept as tombstones). */
async function copyMerge(ctx: Ctx, topic: Topic): Promise<number | null> {
  await ctx.pool.query(`CREATE TABLE bench.ceil_copy (${CEILING_COLUMNS})`);
  if (spawnSync('psql', ['--version']).status !== 0) { ctx.h.note('streaming: psql not found, COPY ceiling skipped'); return null; }
  const t0 = performance.now();
  const r = spawnSync('psql', ['-Atq', ctx.url, '-v', 'ON_ERROR_STOP=1',
    '-c', 'CREATE TEMP TABLE stage (id int, customer_id int, amount numeric(12,2), status text, lsn bigint, deleted boolean)',
    '-c', `\\copy stage FROM '${topic.csv}' csv`, '-c', MERGE('bench.ceil_copy', 'stage')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`COPY ceiling failed: ${r.stderr}`);
  const secs = (performance.now() - t0) / 1000;
  ctx.h.note(`streaming: Postgres COPY + merge ${secs.toFixed(2)} s`);
  return secs;
}

/** The same events in batches of 5000 through `unnest` arrays, newest-wins per batch, one connection. */
async function unnestUpsert(ctx: Ctx, topic: Topic): Promise<number> {
  await ctx.pool.query(`CREATE TABLE bench.ceil_unnest (${CEILING_COLUMNS})`);
  const c = await ctx.pool.connect();
  try {
    const cols: string[][] = [[], [], [], [], [], []];
    const t0 = performance.now();
    const flush = async () => {
      await c.query(`${MERGE('bench.ceil_unnest', 'unnest($1::int[], $2::int[], $3::numeric[], $4::text[], $5::bigint[], $6::bool[]) AS u(id, customer_id, amount, status, lsn, deleted)')}`,
        cols.map((a) => a.map((v) => (v === '' ? null : v))));
      for (const a of cols) a.length = 0;
    };
    for await (const line of readline.createInterface({ input: fs.createReadStream(topic.csv) })) {
      line.split(',').forEach((v, i) => cols[i].push(v));
      if (cols[0].length === 5000) await flush();
    }
    if (cols[0].length > 0) await flush();
    const secs = (performance.now() - t0) / 1000;
    ctx.h.note(`streaming: Postgres unnest upsert ${secs.toFixed(2)} s`);
    return secs;
  } finally {
    c.release();
  }
}

/** The output (a table or a subquery) holds exactly the newest live version of every key the reference says. */
async function assertExact(ctx: Ctx, table: string, reference: string): Promise<void> {
  const r = await ctx.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} o
    FULL JOIN (SELECT id, customer_id, amount, status FROM ${reference} WHERE NOT deleted) e USING (id)
   WHERE o.id IS NULL OR e.id IS NULL OR (o.customer_id, o.amount, o.status) IS DISTINCT FROM (e.customer_id, e.amount, e.status)`);
  if (r.rows[0].n !== '0') throw new Error(`${table} differs from the newest version of each key in ${r.rows[0].n} rows (reference ${reference})`);
}

/** A running worker; events produced at a steady rate; a reader polls for each id's arrival. */
async function latency(ctx: Ctx, rate: number, seconds: number): Promise<{ p50: number; p99: number; max: number; n: number; rate: number }> {
  const topic = `bench.latency.${ctx.tag}`;
  const admin = ctx.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }); // ids become visible in order
  await admin.disconnect();
  await ctx.pool.query(`CREATE TABLE bench.latency (${OUTPUT_COLUMNS})`);
  await ctx.pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ('latency', 'shadow')`);
  const config = path.join(ctx.dir, 'latency.json');
  fs.writeFileSync(config, JSON.stringify({ database: { url: ctx.url }, kafka: { brokers: ctx.h.kafkaBrokers, groupPrefix: `bench${ctx.tag}` },
    datasets: { latency: { key: ['id'], batch: { output: 'bench.latency_batch' }, stream: { output: 'bench.latency', source: { topic, format: 'json' } } } } }));
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
      messages.push({ key: JSON.stringify({ id: next }), value: JSON.stringify({ id: next, customer_id: 1, amount: '1.00', status: 'new', __lsn: next }) });
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
