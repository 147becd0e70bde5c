/**
 * Several real `dualrun stream` workers in one consumer group on an 8-partition
 * topic (shared broker) while a producer keeps producing keyed Debezium events
 * (inserts, updates, deletes, re-inserts, stale duplicates; version = source.lsn):
 *
 * - one worker is SIGKILLed at random moments (mid-backlog, right after a commit,
 *   during the rebalance a replacement's join starts), another is SIGTERMed during
 *   a rebalance, and replacements are started;
 * - a worker is paused (SIGSTOP) inside an open transaction holding partition locks,
 *   longer than the session timeout, while another takes its partitions: the new
 *   owner must not wait for it forever (frozen-holder-fence.ts), and once continued
 *   (SIGCONT) the zombie must not apply or commit stale work over the new owner's;
 * - a SIGTERM to a member and to a joiner while the group waits out a killed member's
 *   session must stop gracefully (exit 0), not pass the CLI's stop deadline (143).
 *
 * Each ends with `--until-idle` (in a group of its own, so it does not wait out killed
 * members' sessions); the output must equal the model (newest version per key, deletes
 * removed), and per partition applied + dead must equal the records the partition holds
 * (a batch applied twice would count twice, a batch dropped would count short: the zombie
 * case found one, a first batch whose lock wait outlasted the idle commit).
 * Sizes: FAULTS_GROUP_KILLS, FAULTS_GROUP_EVENTS (CI: 2 and 4000, ~30 s).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { generateOrderEvents, prng, type KafkaMessage } from '../streaming/debezium-events.ts';
import { createTopic, deleteTopic, produce, testKafka, uniqueTopic } from '../streaming/kafka-support.ts';
import { ordersStreamDatabase, setStage, writeConfig } from '../streaming/support.ts';
import { committedCount, expectExact, expectNoRawStack, loadExpected, size, sleep, startCli, until, type Worker } from './fault-support.ts';

const KILLS = size('GROUP_KILLS', 6);
const TOTAL = size('GROUP_EVENTS', 24_000);
const PARTITIONS = 8;
const FROZEN_AFTER_MS = 3_000;
let db: TestDatabase;
const topics: string[] = [];

async function partitionEnds(topic: string): Promise<Map<number, number>> {
  const admin = testKafka().admin();
  await admin.connect();
  const offs = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return new Map(offs.map((o) => [o.partition, Number(o.high)]));
}

async function groupState(groupId: string): Promise<string> {
  const admin = testKafka().admin();
  await admin.connect();
  const { groups } = await admin.describeGroups([groupId]);
  await admin.disconnect();
  return groups[0]?.state ?? 'Unknown';
}

/** Per partition, the counters equal the records it holds: none counted twice, none skipped. */
async function expectCountedOncePerPartition(dataset: string, topic: string): Promise<void> {
  const r = await db.pool.query<{ partition: number; n: string }>(
    `SELECT partition::int AS partition, (records_applied + records_dead)::text AS n FROM dualrun.stream_positions WHERE dataset = $1 ORDER BY 1`, [dataset]);
  const counted = new Map(r.rows.map((x) => [x.partition, Number(x.n)]));
  const ends = await partitionEnds(topic);
  expect(counted).toEqual(ends);
}

function setup(dataset: string, topic: string, sessionTimeout = '6s', groupPrefix = `z${topic.slice(-8)}`) {
  return writeConfig({
    database: { url: db.url },
    kafka: { brokers: kafkaBrokers(), groupPrefix, sessionTimeout },
    datasets: { [dataset]: { key: ['order_id'], batch: { output: `analytics.${dataset}_batch` },
      stream: { output: `analytics.${dataset}_stream`, source: { topic, format: 'debezium' } } } },
  });
}

/** A topic of PARTITIONS partitions and a dataset in shadow reading it, with its stream table; the config (setup). */
async function datasetOnNewTopic(dataset: string, name: string, sessionTimeout?: string) {
  const topic = uniqueTopic(name); topics.push(topic);
  await createTopic(topic, PARTITIONS);
  await db.pool.query(`CREATE TABLE analytics.${dataset}_stream (LIKE analytics.orders_stream)`);
  await setStage(db.pool, dataset, 'shadow');
  return { topic, ...setup(dataset, topic, sessionTimeout) };
}

/** Produces the messages in small slices, spread over the run, until stopped or done. */
function producer(topic: string, messages: KafkaMessage[], slices: number, gapMs: number) {
  let stopped = false;
  const done = (async () => {
    const per = Math.ceil(messages.length / slices);
    for (let i = 0; i < slices; i++) {
      await produce(topic, messages.slice(i * per, (i + 1) * per));
      if (!stopped) await sleep(gapMs);
    }
  })();
  return { finish: async () => { stopped = true; await done; } };
}

/**
 * Applies the rest with `--until-idle` and checks. The last run uses a consumer group of its own:
 * in the workers' group it would wait out the sessions of members killed or unleft (up to a
 * session timeout each). It reads the topic from its beginning; the stored positions decide what is fresh.
 */
async function finishAndCheck(dataset: string, topic: string, expectedRows: Iterable<import('../streaming/debezium-events.ts').OrderRow>, total: number) {
  const { file, dir } = setup(dataset, topic, '6s', `f${topic.slice(-8)}`);
  const last = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 120_000 });
  expectNoRawStack(last.stderr);
  expect(last.code, last.stderr).toBe(0);
  await loadExpected(db.pool, `analytics.${dataset}_expected`, expectedRows);
  await expectExact(db.pool, `analytics.${dataset}_expected`, `analytics.${dataset}_stream`);
  await expectCountedOncePerPartition(dataset, topic);
  expect(await committedCount(db.pool, dataset)).toBe(total);
  const dead = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = $1', [dataset]);
  expect(dead.rows[0].n).toBe(0);
}

describeKafka('faults: a consumer group of real workers under SIGKILL, SIGTERM and a paused zombie', () => {
  beforeAll(async () => { db = await ordersStreamDatabase('faults_group'); });
  afterAll(async () => { for (const t of topics) await deleteTopic(t); await db?.drop(); });

  // The first two run at once (their topics, datasets and groups are their own): their waits for session timeouts overlap.
  it.concurrent(`three workers on ${PARTITIONS} partitions: ${KILLS} SIGKILLs at random moments and a SIGTERM during a rebalance, while events arrive; ends exact, each partition counted once`, { timeout: 300_000 }, async () => {
    const { topic, file, dir } = await datasetOnNewTopic('grp', 'faults-group');
    const stream = generateOrderEvents(TOTAL, { keys: Math.ceil(TOTAL / 6), seed: 31 });
    const rnd = prng(Number(process.env.FAULTS_SEED ?? Date.now() % 100000));
    const start = () => startCli(['--config', file, 'stream'], dir);
    const workers: Worker[] = [start(), start(), start()];
    const startedAt = workers.map(() => Date.now());
    const per = Math.ceil(stream.messages.length / KILLS);
    const producing: Promise<void>[] = [];
    for (let k = 0; k < KILLS; k++) {
      const before = await committedCount(db.pool, 'grp');
      producing.push(produce(topic, stream.messages.slice(k * per, (k + 1) * per), 500)); // arrives while the group works and rebalances
      await until(`the group to commit fresh events (round ${k})`, async () => (await committedCount(db.pool, 'grp')) > before, 60_000, 100, workers[0]);
      // Mid-backlog, right after a commit, or during the rebalance the last replacement started.
      await sleep(rnd() * 1500);
      // The SIGTERM goes to the oldest worker (its signal handlers are set; a replacement
      // just started may still be loading) while the replacement started last joins.
      const graceful = k === Math.floor(KILLS / 2);
      const victim = graceful ? startedAt.indexOf(Math.min(...startedAt)) : Math.floor(rnd() * workers.length);
      const w = workers[victim];
      expect(w.child.exitCode, w.stderr()).toBe(null);
      w.child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
      const exit = await w.exited();
      expectNoRawStack(w.stderr());
      // A graceful stop: 0, or, when the group's rebalance holds kafkajs past the 4 s stop
      // deadline, the cut-short exit (its open work rolled back; the output check below holds either way).
      if (exit.signal !== 'SIGKILL') expect([0, 143], w.stderr()).toContain(exit.code);
      workers[victim] = start(); // a replacement joins: another rebalance
      startedAt[victim] = Date.now();
    }
    await Promise.all(producing);
    await sleep(500);
    for (const w of workers) { w.child.kill('SIGKILL'); await w.exited(); expectNoRawStack(w.stderr()); }
    await finishAndCheck('grp', topic, stream.expected.values(), stream.messages.length);
  });

  it.concurrent('a worker paused (SIGSTOP) inside an open transaction holding partition locks does not stop the new owner past the session timeout, and commits nothing stale when continued', { timeout: 180_000 }, async () => {
    const { topic, file, dir } = await datasetOnNewTopic('frz', 'faults-frozen');
    const stream = generateOrderEvents(TOTAL, { keys: Math.ceil(TOTAL / 6), seed: 41 });
    const half = Math.ceil(stream.messages.length / 2);
    await produce(topic, stream.messages.slice(0, half));
    // The frozen-holder threshold shortened from 10 s: here the only holder B can wait for is A.
    const fence = { DUALRUN_FROZEN_HOLDER_MS: String(FROZEN_AFTER_MS) };
    const a = startCli(['--config', file, 'stream'], dir, fence);
    // The partitions whose lock A holds inside an open transaction, with their stored positions.
    const heldByA = async () => (await db.pool.query<{ partition: number; position: string }>(
      `SELECT p AS partition, coalesce((SELECT position::text FROM dualrun.stream_positions sp WHERE sp.dataset = 'frz' AND sp.partition = p), '-1') AS position
         FROM generate_series(0, ${PARTITIONS - 1}) p
         JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('dualrun.stream/frz/' || $1 || '/' || p, 0)
         JOIN pg_stat_activity s ON s.pid = l.pid AND s.application_name = 'dualrun stream frz' AND s.xact_start IS NOT NULL`, [topic])).rows;
    const producing = produce(topic, stream.messages.slice(half), 200);
    await until('A to hold partition locks inside an open transaction', async () => (await heldByA()).length > 0, 60_000, 20, a);
    a.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const frozen = await heldByA();
    expect(frozen.length).toBeGreaterThan(0);
    // Started now, so every lock above is A's (B's startup overlaps A's session timeout).
    const b = startCli(['--config', file, 'stream'], dir, fence);
    await producing;
    // The group drops A after its 6 s session timeout; B gets A's partitions, waits on the
    // locks A's open transaction holds, and fences A out once it has waited on its client for FROZEN_AFTER_MS.
    const movedPast = async () => {
      const now = await db.pool.query<{ partition: number; position: string }>(`SELECT partition::int AS partition, position::text FROM dualrun.stream_positions WHERE dataset = 'frz'`);
      const at = new Map(now.rows.map((r) => [r.partition, BigInt(r.position)]));
      return frozen.every((f) => (at.get(f.partition) ?? -1n) > BigInt(f.position));
    };
    let progressed = false;
    while (Date.now() - frozenAt < 40_000 && !progressed) { await sleep(250); progressed = await movedPast(); }
    const waitedMs = Date.now() - frozenAt;
    a.child.kill('SIGCONT');
    await sleep(2_000); // A, continued, tries to go on with its stale transactions
    for (const w of [a, b]) { w.child.kill('SIGTERM'); const e = await w.exited(); expectNoRawStack(w.stderr()); expect(e.code, w.stderr()).toBe(0); }
    await finishAndCheck('frz', topic, stream.expected.values(), stream.messages.length);
    expect(progressed, `partitions ${JSON.stringify(frozen)} locked by the frozen A did not move in ${waitedMs} ms`).toBe(true);
    // They moved only once A was fenced out: after its session timeout and the frozen-holder threshold.
    expect(waitedMs).toBeGreaterThan(FROZEN_AFTER_MS);
  });

  it('a SIGTERM while the group waits out a killed member\'s session stops gracefully (exit 0) with its work committed', { timeout: 120_000 }, async () => {
    const { topic, file, dir } = await datasetOnNewTopic('trm', 'faults-term', '10s');
    const stream = generateOrderEvents(Math.ceil(TOTAL / 2), { keys: Math.ceil(TOTAL / 12), seed: 43 });
    const half = Math.ceil(stream.messages.length / 2);
    await produce(topic, stream.messages.slice(0, half));
    const a = startCli(['--config', file, 'stream'], dir);
    const b = startCli(['--config', file, 'stream'], dir);
    await until('both workers to apply', async () => (await committedCount(db.pool, 'trm')) >= half, 60_000, 100, a);
    await sleep(500);
    a.child.kill('SIGKILL'); // leaves no LeaveGroup: the broker waits out its 10 s session
    const killedAt = Date.now();
    await a.exited();
    const c = startCli(['--config', file, 'stream'], dir); // its join starts a rebalance that waits for A
    const producing = produce(topic, stream.messages.slice(half));
    const group = `z${topic.slice(-8)}.trm`;
    await until('C\'s join to start a rebalance', async () => (await groupState(group)) === 'PreparingRebalance', 20_000, 100, c);
    await sleep(1_000); // B's heartbeat (every 500 ms) asks it to rejoin
    // Else the SIGTERMs below would not come during the rebalance this test is about.
    expect(Date.now() - killedAt, 'the group still waits for A').toBeLessThan(8_000);
    expect(await groupState(group)).toBe('PreparingRebalance');
    // B is asked to rejoin and C is joining while the group still waits for A.
    for (const w of [b, c]) w.child.kill('SIGTERM');
    for (const w of [b, c]) { const e = await w.exited(); expectNoRawStack(w.stderr()); expect(e.code, w.stderr()).toBe(0); }
    await producing;
    await finishAndCheck('trm', topic, stream.expected.values(), stream.messages.length);
  });
});
