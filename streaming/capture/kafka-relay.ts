/**
 * Relays a source table's changelog to Kafka in Debezium shape (key: the dataset
 * key columns as JSON; value: {op, before, after, source: {lsn: changelog id,
 * ts_ms, table, txId}, ts_ms}), for `{ table }` datasets when Kafka is configured.
 *
 * At least once: the relay position (stream_positions, source `relay:<table>`) is
 * saved after Kafka acknowledged the batch (acks=all), so a
 * crash between the two resends a batch. The stream sink then sees the same
 * `source.lsn` again: output rows are unaffected (same version); a stateful
 * transform would count such a resent event again (see docs/streaming.md).
 * With `prune`, the relay also prunes what every consumer has read, now and then.
 */
import kafkajs, { type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Pool } from '../../src/core/db/connect.ts';
import type { AttemptSession } from '../../src/core/reconnect-policy.ts';
import { decodeDebezium } from '../debezium-decoder.ts';
import { disconnectWithin, withConnectDeadline } from '../kafka-client.ts';
import { isStopped } from '../../src/core/stopped.ts';
import { keyOf } from '../decoder.ts';
import { readPositions } from '../positions.ts';
import { BEFORE_EVERYTHING, type SourceRecord } from '../transport.ts';
import { followChangelog } from './changelog-reader.ts';
import { relaySourceName } from './changelog-consumers.ts';
import type { PeriodicPrune } from './periodic-prune.ts';

const { Partitioners } = kafkajs;

export interface RelayOptions {
  readonly kafka: Kafka;
  readonly db: Pool;
  readonly dataset: string;
  readonly table: string;
  readonly topic: string;
  readonly key: readonly string[];
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly untilIdle: boolean;
  readonly batchSize?: number;
  /** For messages and the start-up deadline. */
  readonly brokers: readonly string[];
  readonly connectTimeoutMs: number;
  /** From the reconnect policy. */
  readonly session?: AttemptSession;
  readonly prune?: PeriodicPrune;
}

export async function relayChangelog(o: RelayOptions): Promise<{ relayed: number }> {
  const source = relaySourceName(o.table);
  const what = `capture relay ${o.dataset}`;
  const timeoutMs = Math.min(o.connectTimeoutMs, o.session?.budgetMs() ?? Number.POSITIVE_INFINITY);
  // One request in flight keeps the changelog order in the topic; a retried send may
  // duplicate (at least once, see above), which the version makes harmless for rows.
  const producer = o.kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  let relayed = 0;
  try {
    await withConnectDeadline(o.brokers, what, timeoutMs, () => ensureTopic(o.kafka, o.topic), o.signal);
    await withConnectDeadline(o.brokers, what, timeoutMs, () => producer.connect(), o.signal);
    o.session?.connected('kafka');
    const stored = async () => (await readPositions(o.db, o.dataset, source)).get(0) ?? BEFORE_EVERYTHING;
    const from = await stored();
    o.session?.connected('postgres');
    for await (const page of followChangelog(o.db, o.table, from, { limit: o.batchSize ?? 5000, pollMs: 100, signal: o.signal, untilIdle: o.untilIdle, stored })) {
      o.session?.progressed();
      if (page.records.length > 0) {
        await send(producer, o, page.records);
        const cursor = page.records[page.records.length - 1].position;
        await o.db.query(
          // Forward only: a second relay of the dataset that lags must not move it back under pruning.
          `INSERT INTO dualrun.stream_positions AS s (dataset, source, partition, position, sub_position, updated_at) VALUES ($1, $2, 0, $3, $4, now())
           ON CONFLICT (dataset, source, partition) DO UPDATE SET position = EXCLUDED.position, sub_position = EXCLUDED.sub_position, updated_at = now()
           WHERE (s.position, s.sub_position) < (EXCLUDED.position, EXCLUDED.sub_position)`,
          [o.dataset, source, cursor.major.toString(), cursor.minor.toString()]);
        relayed += page.records.length;
      }
      o.prune?.kick(o.signal);
    }
    await o.prune?.finish(o.untilIdle, o.signal);
  } catch (e) {
    // Stopped while connecting: nothing was sent past the stored position, a clean stop.
    if (!isStopped(e, o.signal)) throw e;
  } finally {
    await o.prune?.finish(false, o.signal);
    await disconnectWithin(producer);
  }
  o.log.info({ dataset: o.dataset, table: o.table, topic: o.topic, relayed }, 'relay stopped');
  return { relayed };
}

/** Sends records in order (one request in flight), keyed by the dataset key; resolves once acknowledged by all replicas. */
export async function send(producer: Producer, o: Pick<RelayOptions, 'topic' | 'key'>, records: readonly SourceRecord[]): Promise<void> {
  const messages = records.map((r) => {
    const d = decodeDebezium(r, o.key);
    const row = d.ok && d.event ? d.event.row : null;
    const key = keyOf(row, null, o.key);
    return { key: key ? JSON.stringify(key) : null, value: r.value as string, timestamp: String(r.timestamp.getTime()) };
  });
  // A produce request carries one record batch per partition, and brokers refuse
  // batches over message.max.bytes (1 MB by default): send in ~512 KB slices.
  let slice: typeof messages = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value.length + (m.key?.length ?? 0) + 64;
    if (slice.length > 0 && bytes + size > 512 * 1024) {
      await producer.send({ topic: o.topic, acks: -1, messages: slice });
      slice = [];
      bytes = 0;
    }
    slice.push(m);
    bytes += size;
  }
  if (slice.length > 0) await producer.send({ topic: o.topic, acks: -1, messages: slice });
}

export async function ensureTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await disconnectWithin(admin);
  }
}
