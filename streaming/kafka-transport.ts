/**
 * Kafka through kafkajs: a consumer group per dataset, `eachBatch`, auto-commit
 * off. Each batch goes to the sink; only after its Postgres transaction commits
 * are the offsets committed to Kafka, so Kafka's committed offsets are never
 * ahead of Postgres and `kafka-consumer-groups.sh` shows real lag.
 *
 * Resume: the stored Postgres position is the truth. On the first batch of a
 * partition after each (re)assignment, if Kafka would start past the stored
 * position (a replay reset Postgres, or Postgres was restored), the consumer seeks
 * back once to stored + 1 and drops the batch; starting before it is harmless
 * because the sink skips what it already has. Where the identity of the record at
 * the stored offset is known, it starts at that record instead and compares it
 * (a topic deleted and created again holds another one there: checkStart).
 *
 * Faults: kafkajs gives up on some errors for good (e.g. "The coordinator is not
 * aware of this member" after an outage longer than the session timeout) and then
 * sits connected doing nothing. So the consumer's crash, stop and disconnect events
 * are observed, and a progress watchdog checks that batches arrive while records
 * wait; either way the run rejects with a Kafka error and the reconnect policy starts
 * a fresh consumer that rejoins the group and resumes from the stored positions.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Pool } from '../src/core/db/connect.ts';
import { DualrunError } from '../src/core/errors.ts';
import type { StallReport } from '../src/core/worker-health.ts';
import { sleep } from './abortable-sleep.ts';
import { disconnectWithin, kafkaUnreachable, withConnectDeadline } from './kafka-client.ts';
import { readPositions, readStoredRecords } from './positions.ts';
import { recordIdentity } from './record-identity.ts';
import type { BatchAck, BatchContext, Position, SourceBatch, SourceRecord, Transport, TransportRunOptions } from './transport.ts';

export interface KafkaTransportOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topic: string;
  readonly dataset: string;
  readonly stateDb: Pool;
  readonly log: Logger;
  /** Session timeout (ms): how long a killed worker's partitions stay assigned to it. */
  readonly sessionTimeout?: number;
  /** Fetch sizes: a batch is at most maxBytesPerPartition; one fetch (all its batches) at most maxBytes. */
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  /** Partitions applied at once, each in its own transaction (default 3). */
  readonly concurrency?: number;
  /** For messages: the bootstrap brokers. */
  readonly brokers: readonly string[];
  /** Start-up: how long to try the brokers (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** Progress watchdog: no batch for this long while records wait → rejoin (default 60 s). */
  readonly stallTimeoutMs?: number;
  readonly onStall?: (r: StallReport) => void;
}

/**
 * Memory bound: kafkajs fetches again only once every batch of the last fetch is
 * handled, so a worker holds at most one fetch (≤ maxBytes of records, decoded) plus
 * the batches being applied from it. Applied one transaction per batch, a batch is
 * up to 256 KiB (~2.5k small events), three partitions a fetch. Collected (the
 * collecting sink puts many batches into one transaction), batches need not be big
 * for Postgres, and small fetches let every record's objects die in V8's young
 * generation: 64 KiB a partition, 256 KiB a fetch cut node's CPU per event by about
 * a third against 256 KiB / 768 KiB (docs/streaming.md, "Memory").
 */
export const FETCH_BATCHED = { maxBytesPerPartition: 256 * 1024, maxBytes: 768 * 1024 } as const;
export const FETCH_COLLECTED = { maxBytesPerPartition: 64 * 1024, maxBytes: 256 * 1024 } as const;

/** How often a member heartbeats, so it joins a rebalance within about this long. */
const HEARTBEAT_MS = 500;

export function kafkaTransport(o: KafkaTransportOptions): Transport {
  return {
    kind: 'kafka',
    source: o.topic,
    run: (handle, opts) => runConsumer(o, handle, opts),
  };
}

async function runConsumer(o: KafkaTransportOptions, handle: (b: SourceBatch, ctx?: BatchContext) => Promise<BatchAck | void>, opts: TransportRunOptions): Promise<void> {
  const sessionTimeout = o.sessionTimeout ?? 10_000;
  const consumer = o.kafka.consumer({
    // A member learns of a rebalance from a heartbeat's answer: at 3 s a worker joining a group
    // whose members are busy waited up to 3 s, so from a backlog the first member took 80-95% of
    // the work (4 workers: 6.1-7.3 s); at 500 ms shares are even (5.3-5.8 s).
    groupId: o.groupId, sessionTimeout, heartbeatInterval: Math.min(HEARTBEAT_MS, Math.floor(sessionTimeout / 3)),
    maxBytesPerPartition: o.maxBytesPerPartition ?? FETCH_BATCHED.maxBytesPerPartition, maxBytes: o.maxBytes ?? FETCH_BATCHED.maxBytes, maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false, retry: { retries: 5, maxRetryTime: 5000, restartOnFailure: async () => !fatal && !stopping },
  });
  const checked = new Set<number>();
  const sought = new Set<number>();
  let fatal: unknown = null;
  let stopping = false;
  const progress: StopProgress = { at: Date.now(), nudge: () => undefined };
  const lost = (why: string, cause?: unknown) => {
    if (fatal || stopping) return;
    fatal = new DualrunError('DUALRUN_KAFKA_UNREACHABLE', `Kafka consumer for ${o.topic} ${why}: rejoining the group`, { cause, details: { service: 'kafka', dataset: o.dataset } });
  };
  // kafkajs restarts itself after retriable crashes; after a non-retriable one it stays down.
  consumer.on(consumer.events.CRASH, (e) => { if (!e.payload.restart) lost(`crashed (${e.payload.error?.message ?? 'unknown error'})`, e.payload.error); });
  consumer.on(consumer.events.STOP, () => lost('stopped'));
  consumer.on(consumer.events.DISCONNECT, () => lost('disconnected'));
  const contexts = new Map<number, BatchContext>();
  const contextFor = (partition: number): BatchContext => {
    let ctx = contexts.get(partition);
    if (!ctx) {
      ctx = {
        // After a rebalance the offset may no longer be ours to commit: Postgres is the truth, so that is harmless.
        acknowledge: (through) => {
          void consumer.commitOffsets([{ topic: o.topic, partition, offset: (through.major + 1n).toString() }]).catch(() => undefined);
          progress.nudge();
        },
        redeliver: () => { seekToStored(o, consumer, partition).catch((e) => { fatal ??= e; }); },
        fail: (e) => { fatal ??= e; },
      };
      contexts.set(partition, ctx);
    }
    return ctx;
  };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    opts.onConnected?.('kafka');
    checked.clear();
    sought.clear();
    const assigned = e.payload.memberAssignment[o.topic] ?? [];
    const revoked = [...contexts.keys()].filter((p) => !assigned.includes(p));
    for (const p of revoked) contexts.delete(p);
    if (revoked.length > 0) opts.onRevoked?.(revoked);
    seekAssignedBack(o, consumer, assigned).catch((err) => {
      if (err instanceof DualrunError && err.code === 'DUALRUN_SOURCE_REWOUND') fatal ??= err;
      else o.log.warn({ dataset: o.dataset, err }, 'could not compare stored positions with Kafka offsets');
    });
  });
  try {
    await requireTopic(o, opts.signal, Math.min(o.connectTimeoutMs ?? 30_000, opts.connectBudgetMs?.() ?? Number.POSITIVE_INFINITY));
    opts.onConnected?.('kafka');
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    const running = consumer.run({
      autoCommit: false,
      // Partitions are independent (each has its own position, lock and transaction), so
      // while Postgres applies one partition's batch, node decodes the next one's.
      partitionsConsumedConcurrently: o.concurrency ?? Number(process.env.DUALRUN_STREAM_PARTITIONS_AT_ONCE ?? 3),
      // Resolved by hand, only after Postgres committed: a batch dropped for a seek
      // must not move the fetch position past the seek.
      eachBatchAutoResolve: false,
      eachBatch: async (p) => {
        if (fatal || !p.isRunning() || p.isStale()) return;
        progress.at = Date.now();
        if (p.batch.messages.length === 0) { p.resolveOffset(p.batch.lastOffset()); return; } // only control records
        if (!checked.has(p.batch.partition)) {
          const start = await checkStart(o, consumer, p, sought.has(p.batch.partition)).catch((e) => { fatal ??= e; throw e; });
          if (start === 'sought') {
            sought.add(p.batch.partition); // once: if the log really starts later (retention), accept that start
            return;
          }
          if (start === 'checked') checked.add(p.batch.partition);
        }
        let ack: BatchAck | void;
        try {
          ack = await handle(toSourceBatch(p), contextFor(p.batch.partition));
        } catch (e) {
          fatal = e; // stop here: never commit to Kafka what Postgres does not have
          throw e;
        }
        progress.at = Date.now();
        if (ack?.rewind) { await seekToStored(o, consumer, p.batch.partition); return; }
        p.resolveOffset(p.batch.lastOffset());
        // A batch inside a transaction still open is acknowledged to Kafka with the batch that commits it.
        if (!ack?.pending) {
          await consumer.commitOffsets([{ topic: o.topic, partition: p.batch.partition, offset: (BigInt(p.batch.lastOffset()) + 1n).toString() }]);
          progress.nudge();
        }
        await p.heartbeat();
      },
    });
    // kafkajs's run() resolves once the first join is done, which the broker holds until
    // every member rejoined or timed out (a killed one: its whole session): a stop must
    // not wait for it (a SIGTERM then exited 143). Left behind, its rejection is the disconnect's.
    running.catch(() => undefined);
    await settledOrAborted(running, opts.signal);
    await waitForStop(o, opts, () => fatal, progress);
  } catch (e) {
    if (fatal) throw fatal;
    if (e instanceof DualrunError) throw e;
    throw kafkaUnreachable(o.brokers, `Kafka consumer for ${o.topic}`, e);
  } finally {
    stopping = true;
    // With the brokers gone, leaving the group can retry for long, and during a rebalance
    // kafkajs's disconnect waits for the join, which the broker holds until every member
    // rejoined or timed out (a killed one: its whole session): do not wait for it past
    // LEAVE_WAIT_MS, well inside the CLI's 4 s stop deadline (a SIGTERM then exited 143
    // with its open work rolled back). Unleft, the member is dropped at its session timeout.
    await Promise.race([consumer.disconnect().catch(() => undefined), sleep(LEAVE_WAIT_MS, new AbortController().signal)]);
  }
  if (fatal) throw fatal;
}

const LEAVE_WAIT_MS = 2_000;

/** p's outcome, or undefined as soon as the signal is aborted. */
function settledOrAborted(p: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function toSourceBatch(p: EachBatchPayload): SourceBatch {
  const records = p.batch.messages.map((m): SourceRecord => {
    const offset = BigInt(m.offset);
    return { position: { major: offset, minor: 0n }, key: m.key ?? null, value: m.value ?? null, timestamp: new Date(Number(m.timestamp)), fallbackVersion: offset };
  });
  const lag = Number(BigInt(p.batch.highWatermark) - BigInt(p.batch.lastOffset()) - 1n);
  return { partition: p.batch.partition, records, headSeenAt: lag <= 0 ? new Date() : null, lagRecords: Math.max(0, lag) };
}

/**
 * The first batch of a partition after an assignment. Kafka may start past the stored
 * position (a replay reset Postgres): seek back, once ('sought'). Where the identity of
 * the record applied at the stored offset is known, the worker starts at that record,
 * not after it, and compares: another record there means the topic was deleted and
 * created again (offsets alone cannot tell when the new topic already holds more
 * records than were applied, and its first records would be skipped as applied ones),
 * so it stops. 'unchecked': the batch ends before that record (the sink skips it all),
 * the next batch is looked at again.
 */
async function checkStart(o: KafkaTransportOptions, consumer: Consumer, p: EachBatchPayload, soughtAlready: boolean): Promise<'sought' | 'checked' | 'unchecked'> {
  const partition = p.batch.partition;
  const stored = (await readStoredRecords(o.stateDb, o.dataset, o.topic)).get(partition);
  const at = startOffset(stored);
  const messages = p.batch.messages;
  const first = BigInt(p.batch.firstOffset() ?? messages[0].offset);
  if (first > at) {
    if (!soughtAlready) {
      // Just after the applied record (Kafka's committed offset): the usual restart, back one to compare it.
      const usual = stored?.identity && first === at + 1n;
      o.log[usual ? 'debug' : 'info']({ dataset: o.dataset, partition, from: first.toString(), to: at.toString() }, 'Kafka starts past the stored position: seeking back');
      consumer.seek({ topic: o.topic, partition, offset: at.toString() });
      return 'sought';
    }
    // Still past it: the record there is gone (retention, compaction): nothing to compare.
    await warnIfRetentionGap(o, p).catch((err) => o.log.warn({ dataset: o.dataset, err }, 'could not compare the log start with the stored position'));
    return 'checked';
  }
  if (!stored?.identity) return 'checked';
  if (BigInt(messages[messages.length - 1].offset) < at) return 'unchecked';
  const m = messages.find((x) => BigInt(x.offset) === at);
  if (m && recordIdentity({ timestamp: new Date(Number(m.timestamp)), key: m.key ?? null, value: m.value ?? null }) !== stored.identity) {
    throw new DualrunError('DUALRUN_SOURCE_REWOUND',
      `Kafka topic ${o.topic}: partition ${partition} holds another record at offset ${at} than the one applied there (its timestamp, key or value differ; dualrun.stream_positions.last_record): ` +
      `the topic was deleted and created again. Nothing more is applied from it: to rebuild ${o.dataset}'s stream output from the topic as it is now, ` +
      `run \`dualrun stream --dataset ${o.dataset} --from-beginning --reset-output\``,
      { details: { dataset: o.dataset, topic: o.topic, partitions: [partition], offset: at.toString() } });
  }
  return 'checked';
}

/** Where a partition's first fetch starts: the applied record itself when its identity is known (to compare it), else the next one. */
function startOffset(stored: { position: Position; identity: string | null } | undefined): bigint {
  if (!stored) return 0n;
  return stored.identity ? stored.position.major : stored.position.major + 1n;
}

/**
 * After the seek back, a batch that still starts past the stored position + 1: when the
 * log itself starts there, the topic's retention deleted records before they were
 * applied. They cannot be applied any more; say so loudly (which offsets), the output
 * lacks them. (On a compacted topic the log keeps its start: the records skipped were
 * superseded by later ones of their keys, nothing is missing.)
 */
async function warnIfRetentionGap(o: KafkaTransportOptions, p: EachBatchPayload): Promise<void> {
  const want = await storedNext(o, p.batch.partition);
  const first = BigInt(p.batch.firstOffset() ?? p.batch.messages[0].offset);
  if (first <= want) return;
  const admin = o.kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(o.topic).finally(() => admin.disconnect().catch(() => undefined));
  const low = BigInt(offsets.find((x) => x.partition === p.batch.partition)?.low ?? '0');
  if (low <= want) return;
  o.log.warn({ dataset: o.dataset, topic: o.topic, partition: p.batch.partition, missingFrom: want.toString(), missingThrough: (low - 1n).toString(), missing: (low - want).toString() },
    'Kafka deleted records of this partition (retention) before they were applied: the stream output lacks them; a replay cannot bring them back either');
}

/** The offset after the partition's stored position (0 when it has none). */
async function storedNext(o: KafkaTransportOptions, partition: number): Promise<bigint> {
  const stored = (await readPositions(o.stateDb, o.dataset, o.topic)).get(partition);
  return stored ? stored.major + 1n : 0n;
}

/** Delivers the partition again from the stored position + 1 (its last transaction rolled back). */
async function seekToStored(o: KafkaTransportOptions, consumer: Consumer, partition: number): Promise<void> {
  const want = await storedNext(o, partition);
  o.log.info({ dataset: o.dataset, partition, to: want.toString() }, 'a transaction rolled back: delivering the partition again from the stored position');
  consumer.seek({ topic: o.topic, partition, offset: want.toString() });
}

/**
 * After a (re)assignment: where Kafka's committed offset is past the stored
 * position + 1 (a replay reset Postgres), seek back. Needed when no batch would
 * arrive at all (the group's offsets are at the head); eachBatch makes the same
 * check for the first batch, so whichever runs first, nothing past it is applied.
 */
async function seekAssignedBack(o: KafkaTransportOptions, consumer: Consumer, partitions: number[]): Promise<void> {
  if (partitions.length === 0) return;
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    // Kafka's offsets first, Postgres's positions after: a worker commits to Kafka only
    // after Postgres, so positions read later are never behind offsets read earlier.
    // Read at once, a batch committed in between looked like "Kafka ahead" and made the
    // worker seek back and fetch its first batches again (harmless, but ~6% more work).
    const committed = await admin.fetchOffsets({ groupId: o.groupId, topics: [o.topic] });
    const records = await readStoredRecords(o.stateDb, o.dataset, o.topic);
    const stored = new Map([...records].map(([k, v]) => [k, v.position]));
    refuseRewound(o, await admin.fetchTopicOffsets(o.topic), stored, partitions);
    for (const p of committed[0]?.partitions ?? []) {
      if (!partitions.includes(p.partition) || Number(p.offset) < 0) continue;
      const want = startOffset(records.get(p.partition));
      if (BigInt(p.offset) > want) {
        o.log[BigInt(p.offset) > (stored.get(p.partition)?.major ?? -1n) + 1n ? 'info' : 'debug']({ dataset: o.dataset, partition: p.partition, committed: p.offset, to: want.toString() }, 'Kafka committed offset is past the stored position: seeking back');
        consumer.seek({ topic: o.topic, partition: p.partition, offset: want.toString() });
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** When a batch was last handled; `nudge` ends the watchdog's pause early (a commit may have caught the stream up). */
interface StopProgress { at: number; nudge: () => void }

/**
 * Until aborted, a fatal error, or (untilIdle) every partition caught up per Postgres.
 * The watchdog: records waiting and no batch for stallTimeout → reject (rejoin).
 */
async function waitForStop(o: KafkaTransportOptions, opts: TransportRunOptions, fatal: () => unknown, progress: StopProgress): Promise<void> {
  const admin = o.kafka.admin();
  await admin.connect();
  const stallMs = o.stallTimeoutMs ?? 60_000;
  let checked = 0;
  // --until-idle checks again as soon as something commits (not up to 300 ms later), at most every 20 ms.
  // A commit during a check aborts the next pause before it starts (sleep returns at once).
  let nap = new AbortController();
  const wake = () => nap.abort();
  opts.signal.addEventListener('abort', wake, { once: true });
  if (opts.untilIdle) progress.nudge = wake;
  try {
    while (!opts.signal.aborted && !fatal()) {
      await sleep(opts.untilIdle ? 300 : 1000, nap.signal);
      nap = new AbortController();
      const soon = checked + 20 - Date.now();
      if (soon > 0) await sleep(soon, opts.signal);
      checked = Date.now();
      if (opts.signal.aborted || fatal()) return;
      const caughtUp = await partitionsCaughtUp(o, admin);
      if (caughtUp.all) { progress.at = Date.now(); await opts.onIdle?.(caughtUp.partitions, new Date()); }
      if (opts.untilIdle && caughtUp.all) return;
      const idleMs = Date.now() - progress.at;
      if (!caughtUp.all && idleMs > stallMs) {
        o.onStall?.({ dataset: o.dataset, idleMs, lagRecords: caughtUp.lag, action: 'rejoin' });
        throw new DualrunError('DUALRUN_KAFKA_UNREACHABLE',
          `Kafka consumer for ${o.topic} made no progress for ${Math.round(idleMs / 1000)} s with ${caughtUp.lag} records waiting (kafka.stallTimeout): rejoining the group`,
          { details: { service: 'kafka', dataset: o.dataset, stalled: true } });
      }
    }
  } finally {
    opts.signal.removeEventListener('abort', wake);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Kafka offsets never go back: a partition whose log ends (high watermark) at or before
 * the position already applied was deleted and created again, or truncated. Its new
 * records up to the stored position would be taken for ones already applied and
 * skipped without a word, so the worker stops instead, naming what it found.
 * `offsets` must be read after `stored` (else a commit in between looks like a rewind).
 */
function refuseRewound(o: KafkaTransportOptions, offsets: readonly { partition: number; high: string }[], stored: ReadonlyMap<number, Position>, partitions?: readonly number[]): void {
  const behind = offsets.filter((p) => (!partitions || partitions.includes(p.partition)) && stored.has(p.partition) && stored.get(p.partition)!.major >= BigInt(p.high));
  if (behind.length === 0) return;
  const what = behind.map((p) => `partition ${p.partition} ends at offset ${p.high} but offset ${stored.get(p.partition)!.major} was applied`).join('; ');
  throw new DualrunError('DUALRUN_SOURCE_REWOUND',
    `Kafka topic ${o.topic}: ${what} (dualrun.stream_positions): the topic was deleted and created again, or truncated. Nothing more is applied from it: ` +
    `to rebuild ${o.dataset}'s stream output from the topic as it is now, run \`dualrun stream --dataset ${o.dataset} --from-beginning --reset-output\``,
    { details: { dataset: o.dataset, topic: o.topic, partitions: behind.map((p) => p.partition) } }); // no `service`: not a connection loss, no reconnect helps
}

async function partitionsCaughtUp(o: KafkaTransportOptions, admin: ReturnType<Kafka['admin']>): Promise<{ all: boolean; partitions: number[]; lag: number }> {
  // Positions first, log ends after: a batch committed in between only makes the log end newer.
  // Read at once, a position could pass a log end read a moment earlier and look rewound.
  const stored = await readPositions(o.stateDb, o.dataset, o.topic);
  const offsets = await admin.fetchTopicOffsets(o.topic);
  refuseRewound(o, offsets, stored);
  let lag = 0n;
  const done = offsets.filter((p) => {
    const next = (stored.get(p.partition)?.major ?? -1n) + 1n;
    const from = next > BigInt(p.low) ? next : BigInt(p.low);
    if (from < BigInt(p.high)) lag += BigInt(p.high) - from;
    return from >= BigInt(p.high);
  });
  return { all: done.length === offsets.length, partitions: done.filter((p) => stored.has(p.partition)).map((p) => p.partition), lag: Number(lag) };
}

/** A missing topic is a config problem, not something a retry fixes. */
async function requireTopic(o: KafkaTransportOptions, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const admin = o.kafka.admin();
  try {
    const topics = await withConnectDeadline(o.brokers, `stream ${o.dataset}`, timeoutMs, async () => { await admin.connect(); return admin.listTopics(); }, signal);
    if (!topics.includes(o.topic)) {
      throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${o.dataset}.stream.source: Kafka topic ${o.topic} does not exist (create it, or run \`dualrun capture\` for a { table } source)`);
    }
  } finally {
    await disconnectWithin(admin);
  }
}
