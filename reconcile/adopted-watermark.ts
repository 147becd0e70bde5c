/**
 * Has an adopted stream output (written by an external pipeline) caught up
 * with an instant? dualrun's own worker records its watermark; for an adopted
 * output it comes from `stream.watermark`:
 *  - `{ column }`: the newest value of that output column (a timestamp without
 *    time zone, or a date, is a wall clock in the window's time zone, as the
 *    canonical encoding reads it);
 *  - `{ kafkaGroup, topic }`: on every partition the group's committed offset
 *    reached the offset the topic had at the instant (kafkajs
 *    fetchTopicOffsetsByTimestamp: the first offset at or after it, else the end).
 * Either way the instant must also be in the past, so a clock running ahead
 * on the writer's side cannot settle a window that has not ended.
 * Returns null when caught up, else why not (for people).
 */
import type { Logger } from 'pino';
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig, KafkaConfig, StreamWatermark } from '../src/core/config/types.ts';
import { quoteIdent } from '../src/core/identifiers.ts';
import { configMistake } from '../src/core/config/config-mistake.ts';
import { didYouMean } from '../src/core/nearest-name.ts';
import { createKafka, disconnectWithin, withConnectDeadline } from '../streaming/kafka-client.ts';

/** `file`: the config file, named when stream.watermark names a topic the brokers do not have. */
export interface AdoptedWatermarkContext { ds: DatasetConfig; streamPool: Pool; kafka: KafkaConfig | null; log: Logger; file?: string | null }

export async function adoptedBehind(ctx: AdoptedWatermarkContext, horizon: Date, now = new Date()): Promise<string | null> {
  const wm = ctx.ds.stream.watermark;
  if (!wm) return `the stream output ${ctx.ds.stream.output.text} is adopted and has no stream.watermark to tell when it is settled (configure one, or pass --assume-settled)`;
  if (now < horizon) return `window end + settle (${horizon.toISOString()}) is still in the future`;
  return wm.kind === 'column' ? columnBehind(ctx, wm, horizon) : kafkaBehind(ctx, wm, horizon);
}

async function columnBehind(ctx: AdoptedWatermarkContext, wm: Extract<StreamWatermark, { kind: 'column' }>, horizon: Date): Promise<string | null> {
  const out = ctx.ds.stream.output;
  const t = await ctx.streamPool.query<{ type: string }>(
    `SELECT format_type(atttypid, NULL) AS type FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped`, [out.sql, wm.column]);
  const type = t.rows[0]?.type;
  if (!type) return `stream.watermark.column ${wm.column} is not a column of ${out.text}`;
  const col = quoteIdent(wm.column);
  const asInstant = type === 'timestamp without time zone' ? `max(${col}) AT TIME ZONE $1` : type === 'date' ? `max(${col})::timestamp AT TIME ZONE $1` : type === 'timestamp with time zone' ? `max(${col})` : null;
  if (!asInstant) return `stream.watermark.column ${wm.column} is ${type}; expected a timestamp, timestamptz or date column`;
  const zone = ctx.ds.window?.timezone ?? 'UTC';
  const r = await ctx.streamPool.query<{ at: Date | null }>(`SELECT ${asInstant} AS at FROM ${out.sql}`, asInstant.includes('$1') ? [zone] : []);
  const at = r.rows[0].at;
  if (!at) return `the adopted stream output ${out.text} has no ${wm.column} yet (no rows written)`;
  if (at < horizon) return `the newest ${wm.column} in ${out.text}, ${at.toISOString()}, has not passed ${horizon.toISOString()} (window end + settle)`;
  return null;
}

async function kafkaBehind(ctx: AdoptedWatermarkContext, wm: Extract<StreamWatermark, { kind: 'kafka' }>, horizon: Date): Promise<string | null> {
  if (!ctx.kafka) return 'stream.watermark.kafkaGroup needs a `kafka` section in the config';
  const admin = createKafka(ctx.kafka, ctx.log).admin();
  // Brokers that do not answer are DUALRUN_KAFKA_UNREACHABLE naming them, at once when none
  // accepts a TCP connection, else within kafka.connectTimeout (kafkajs's own retries ran ~25 s).
  await withConnectDeadline(ctx.kafka.brokers, `${ctx.ds.name}: stream.watermark.kafkaGroup`, ctx.kafka.connectTimeoutMs, () => admin.connect());
  try {
    // A misspelt topic failed the window with kafkajs's "This server does not host this topic-partition"
    // (exit 3, naming neither the topic nor the field): a config mistake.
    const topics = await admin.listTopics();
    if (!topics.includes(wm.topic)) {
      throw configMistake(ctx.file ?? null, [{ at: `datasets.${ctx.ds.name}.stream.watermark.topic`, message: `Kafka topic ${wm.topic} does not exist on ${ctx.kafka.brokers.join(', ')}${didYouMean(wm.topic, topics.filter((t) => !t.startsWith('__')))}` }], { dataset: ctx.ds.name, topic: wm.topic });
    }
    const [meta, ends, groups] = await Promise.all([
      admin.fetchTopicMetadata({ topics: [wm.topic] }),
      admin.fetchTopicOffsetsByTimestamp(wm.topic, horizon.getTime()),
      admin.fetchOffsets({ groupId: wm.group, topics: [wm.topic] }),
    ]);
    // Every partition must be judged: one left out could hold what the group has not read.
    const partitions = meta.topics.find((t) => t.name === wm.topic)?.partitions.length ?? 0;
    if (partitions === 0 || ends.length < partitions) return `${wm.topic}: end offsets known for ${ends.length} of ${partitions} partitions; not judged settled`;
    const committed = new Map((groups.find((g) => g.topic === wm.topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const behind = ends
      .map((e) => ({ partition: e.partition, end: BigInt(e.offset), at: committed.get(e.partition) ?? -1n }))
      .filter((p) => p.end > 0n && p.at < p.end)
      .sort((a, b) => a.partition - b.partition);
    if (behind.length === 0) return null;
    const list = behind.slice(0, 5).map((p) => `partition ${p.partition} at ${p.at < 0n ? 'no commit' : p.at} of ${p.end}`).join(', ');
    return `consumer group ${wm.group} has not reached ${wm.topic}'s end as of ${horizon.toISOString()} (${list})`;
  } finally {
    await disconnectWithin(admin);
  }
}
