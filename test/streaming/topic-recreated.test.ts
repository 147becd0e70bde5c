/**
 * Regression: after a topic was deleted and created again, its new records (offsets
 * 0, 1, …) sat at or below the position already applied, so the worker took them for
 * redeliveries and skipped them: `stream --until-idle` exited 0 with none of them in
 * the output. Kafka offsets never go back, so a log that ends before the stored
 * position now stops the worker at once (exit 3, DUALRUN_SOURCE_REWOUND) with what it
 * found and the replay that rebuilds the output from the topic as it is.
 * Records the topic's retention deleted before they were applied are skipped as
 * before (nothing can bring them back), but no longer silently: a warning names them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { deleteTopic, produce, testKafka, uniqueTopic } from './kafka-support.ts';
import { createTestDatabase } from '../support/pg.ts';
import { setStage, setupToolkit, writeConfig } from './support.ts';

let db: TestDatabase;
let file: string;
let dir: string;
const topic = uniqueTopic('recreated');

/** Creates the topic, retrying while the broker still finishes deleting an earlier one of that name. */
async function createTopicAgain(name = topic): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    for (let i = 0; ; i++) {
      try {
        if (await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true })) return;
      } catch (e) {
        if (i >= 40) throw e;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}

/** A database where dataset `s` (stream.output public.s, JSON from `on`) is in shadow, and its config. */
async function datasetReading(prefix: string, on: string): Promise<{ db: TestDatabase; file: string; dir: string }> {
  const d = await createTestDatabase(prefix);
  await setupToolkit(d.pool);
  await d.pool.query('CREATE TABLE public.s (id int PRIMARY KEY, v text); CREATE TABLE public.b (LIKE public.s)');
  await setStage(d.pool, 's', 'shadow');
  const { file, dir } = writeConfig({
    database: { url: d.url },
    kafka: { brokers: kafkaBrokers(), groupPrefix: `g${on.slice(-8)}` },
    datasets: { s: { key: ['id'], batch: { output: 'public.b' }, stream: { output: 'public.s', source: { topic: on, format: 'json' } } } },
  });
  return { db: d, file, dir };
}

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: JSON.stringify({ id: from + i }), value: JSON.stringify({ id: from + i, v: `v${from + i}` }) }));
const ids = async () => (await db.pool.query<{ id: number }>('SELECT id FROM public.s ORDER BY id')).rows.map((r) => r.id);

describeKafka('a topic deleted and created again', () => {
  beforeAll(async () => {
    ({ db, file, dir } = await datasetReading('stream_recreated', topic));
  });
  afterAll(async () => {
    await deleteTopic(topic);
    await db?.drop();
  });

  it('regression: its new records were skipped as redeliveries (exit 0, none applied); now exit 3 at once, naming the partition, and the replay it names rebuilds the output', { timeout: 120_000 }, async () => {
    await createTopicAgain();
    await produce(topic, rows(0, 10));
    const first = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(await ids()).toHaveLength(10);

    await deleteTopic(topic);
    await createTopicAgain();
    await produce(topic, rows(100, 5));
    const started = Date.now();
    const second = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(3);
    expect(Date.now() - started).toBeLessThan(20_000); // not the 40 s reconnect limit
    const err = JSON.parse(second.stdout).error;
    expect(err).toMatchObject({ code: 'DUALRUN_SOURCE_REWOUND', retryable: false, partitions: [0] });
    expect(err.message).toContain('partition 0 ends at offset 5 but offset 9 was applied');
    expect(await ids()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // nothing applied from the new topic

    const replay = await runCli(['--config', file, 'stream', '--dataset', 's', '--from-beginning', '--reset-output', '--until-idle'], { cwd: dir });
    expect(replay.code, replay.stderr).toBe(0);
    expect(await ids()).toEqual([100, 101, 102, 103, 104]);
    const after = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle'], { cwd: dir });
    expect(after.code, after.stderr).toBe(0);
  });
});

describeKafka('a topic created again that already holds more records than were applied', () => {
  const again = uniqueTopic('recreated-longer');
  let d: Awaited<ReturnType<typeof datasetReading>>;
  beforeAll(async () => { d = await datasetReading('stream_recreated_longer', again); });
  afterAll(async () => {
    await deleteTopic(again);
    await d?.db.drop();
  });

  it('regression: its first records sat at offsets already applied and were skipped (exit 0, 10 of 15 lost); now the record at the stored offset is compared and the worker stops (exit 3)', { timeout: 120_000 }, async () => {
    const { file, dir } = d;
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: again, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const stored = async () => (await d.db.pool.query<{ id: number }>('SELECT id FROM public.s ORDER BY id')).rows.map((r) => r.id);
    await produce(again, rows(0, 10));
    expect((await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle'], { cwd: dir })).code).toBe(0);
    // A plain restart starts at the applied record (offset 9), finds it the same, and goes on.
    await produce(again, rows(10, 2));
    const resumed = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await stored()).toEqual([...Array(12).keys()]);

    await deleteTopic(again);
    await createTopicAgain(again);
    await produce(again, rows(100, 15));
    const second = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(3);
    const err = JSON.parse(second.stdout).error;
    expect(err).toMatchObject({ code: 'DUALRUN_SOURCE_REWOUND', partitions: [0], offset: '11' });
    expect(err.message).toContain('holds another record at offset 11 than the one applied there');
    expect(await stored()).toEqual([...Array(12).keys()]); // nothing applied from the new topic

    const replay = await runCli(['--config', file, 'stream', '--dataset', 's', '--from-beginning', '--reset-output', '--until-idle'], { cwd: dir });
    expect(replay.code, replay.stderr).toBe(0);
    expect(await stored()).toEqual(Array.from({ length: 15 }, (_, i) => 100 + i));
  });
});

describeKafka('records deleted by retention before they were applied', () => {
  const gapTopic = uniqueTopic('retention');
  let gap: Awaited<ReturnType<typeof datasetReading>>;
  beforeAll(async () => { gap = await datasetReading('stream_retention', gapTopic); });
  afterAll(async () => {
    await deleteTopic(gapTopic);
    await gap?.db.drop();
  });

  it('regression: were skipped without a word; now a warning names the missing offsets', { timeout: 120_000 }, async () => {
    const { file, dir } = gap;
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: gapTopic, numPartitions: 1 }], waitForLeaders: true });
    await produce(gapTopic, rows(0, 10));
    const first = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    await produce(gapTopic, rows(10, 10));
    await admin.fetchTopicMetadata({ topics: [gapTopic] }); // else kafkajs's deleteTopicRecords finds no leader
    await admin.deleteTopicRecords({ topic: gapTopic, partitions: [{ partition: 0, offset: '15' }] }); // as retention would
    await admin.disconnect();
    const second = await runCli(['--config', file, 'stream', '--dataset', 's', '--until-idle'], { cwd: dir, env: { DUALRUN_LOG_LEVEL: 'warn' } });
    expect(second.code, second.stderr).toBe(0);
    const warning = second.stderr.split('\n').filter((l) => l.includes('before they were applied')).map((l) => JSON.parse(l));
    expect(warning).toEqual([expect.objectContaining({ partition: 0, missingFrom: '10', missingThrough: '14', missing: '5' })]);
    expect((await gap.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM public.s')).rows[0].n).toBe(15);
  });
});
