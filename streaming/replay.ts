/**
 * Replay: `--from-beginning` or `--from-time T` rebuilds the stream output from the
 * source — on the side, so readers never see a partial table.
 *
 *   1. prepare: dualrun creates a fresh table `dualrun."rebuild_<dataset>"` (LIKE the
 *      output: columns, defaults, constraints, indexes) and a separate streaming
 *      state under the dataset name `<dataset>.rebuild` (positions, tombstones, dead
 *      letters, keyed state, watermark; for Kafka its own consumer group). From time
 *      T it starts with the output's rows, tombstones and positions from before T;
 *      from the beginning it starts empty.
 *   2. rebuild: the ordinary exactly-once pipeline runs into that table until idle,
 *      while the output (and a worker keeping it current) is left alone.
 *   3. swap, in ONE transaction under the output's partition locks (a running worker
 *      waits): the output's rows become the rebuilt rows — rows that differ or are
 *      gone are deleted, rows that are missing or differ are inserted (identical rows
 *      are not touched) — and the rebuild's state replaces the dataset's. Readers of
 *      the output and of the serving view (it keeps pointing at the same table) see
 *      the old rows until that commit and the new rows after it (MVCC: they never
 *      wait, and never see fewer rows). The rebuild table is then dropped.
 *
 * The output table is never renamed, dropped or re-created (it may be the user's
 * table, with its grants, views, triggers and indexes). A worker that applied
 * newer records meanwhile notices its stored position moved back and re-applies
 * them on the rebuilt rows. Interrupted before the swap, nothing of the output
 * changed; the next replay starts the rebuild over. Keyed state cannot be rewound
 * to T, so a stateful dataset must replay from the beginning.
 */
import { requireStreamSource } from '../src/core/config/stream-source.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { inTransaction, type Pool, type PoolClient } from '../src/core/db/connect.ts';
import { DualrunError } from '../src/core/errors.ts';
import { boundedName, quoteIdent, quoteLiteral, tableRef, type TableRef } from '../src/core/identifiers.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { streamDataset } from './dataset-stream.ts';
import { createKafka, disconnectWithin, groupIdFor, kafkaUnreachable, withConnectDeadline } from './kafka-client.ts';
import { prepareOutputTable, type OutputTable } from './output-table.ts';
import { lockPartition } from './positions.ts';
import { streamDatabase } from './stream-database.ts';
import { changelogTable } from './transport-for-dataset.ts';
import { changelogSourceName } from './changelog-transport.ts';
import { logicalSourceName } from './logical-transport.ts';
import type { Position } from './transport.ts';
import { holdHistory, type HistoryHold } from './capture/changelog-history.ts';
import { triggerTable } from './capture/changelog-consumers.ts';

export type ReplayFrom = { readonly kind: 'beginning' } | { readonly kind: 'time'; readonly at: Date };

export interface ReplayResult {
  dataset: string;
  from: string;
  /** false: interrupted before the swap (the output is unchanged). */
  swapped: boolean;
  /** Rows of the rebuilt table. */
  rebuiltRows: number;
  /** Output rows deleted / inserted by the swap (identical rows are kept as they are). */
  rowsDeleted: number;
  rowsInserted: number;
  partitions: number;
  rebuild: Record<string, unknown>;
}

const STATE_TABLES = ['stream_positions', 'stream_tombstones', 'keyed_state', 'watermarks', 'dead_letters'] as const;

/** The state name and table a dataset is rebuilt under. */
export function rebuildDataset(ds: DatasetConfig): DatasetConfig {
  return { ...ds, name: `${ds.name}.rebuild`, stream: { ...ds.stream, output: rebuildTable(ds) } };
}

function rebuildTable(ds: DatasetConfig): TableRef {
  return tableRef('dualrun', boundedName(`rebuild_${ds.name}`));
}

export async function replayOnTheSide(rt: Runtime, ds: DatasetConfig, from: ReplayFrom, opts: { resetOutput: boolean }): Promise<ReplayResult> {
  refuseLogicalCapture(rt, ds);
  const exclusive = await holdReplayLock(await streamDatabase(rt, ds), ds.name);
  try {
    // Re-reading the trigger changelog: no prune runs until the swap, and the rows needed must still be there.
    const table = rt.config.kafka ? null : triggerTable(ds);
    const history = table ? await holdHistory(await rt.db(), ds.name, table) : null;
    try {
      return await rebuildAndSwap(rt, ds, from, opts, history);
    } finally {
      await history?.release();
    }
  } finally {
    await exclusive.release();
  }
}

/**
 * One replay per dataset at a time: a second one would drop the first's rebuild
 * table and state as a "leftover" while it is being filled, and the first would then
 * swap a half-built table into the output. Held (session advisory lock, own
 * connection, on the stream output's database) from before the rebuild is prepared
 * until after the swap; a process that dies releases it with its connection.
 */
async function holdReplayLock(db: Pool, dataset: string): Promise<{ release(): Promise<void> }> {
  const key = `dualrun.replay/${dataset}`;
  const c = await db.connect();
  let ok: boolean;
  try {
    ok = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key])).rows[0].ok;
  } catch (e) {
    c.release(true);
    throw e;
  }
  if (!ok) {
    c.release();
    throw new DualrunError('DUALRUN_REPLAY_RUNNING',
      `another replay of dataset ${dataset} is running; nothing was changed: wait for it to finish (or stop it) and run this one again if still needed`,
      { details: { dataset } });
  }
  return {
    async release() {
      let broken = false;
      try {
        await c.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      } catch {
        broken = true; // a dropped connection released its lock with it
      } finally {
        c.release(broken);
      }
    },
  };
}

async function rebuildAndSwap(rt: Runtime, ds: DatasetConfig, from: ReplayFrom, opts: { resetOutput: boolean }, history: HistoryHold | null): Promise<ReplayResult> {
  const db = await streamDatabase(rt, ds);
  const live = await prepareOutputTable(db, ds.stream.output, ds.key, { file: rt.config.path, dataset: ds.name });
  const has = await db.query(`SELECT 1 FROM ${live.table.sql} LIMIT 1`);
  if (has.rowCount && !opts.resetOutput) {
    throw new DualrunError('DUALRUN_USAGE', `stream.output ${ds.stream.output.text} of dataset ${ds.name} has rows; replay rebuilds and replaces them: add --reset-output to confirm`, { details: { dataset: ds.name } });
  }
  if (from.kind === 'time' && (await db.query('SELECT 1 FROM dualrun.keyed_state WHERE dataset = $1 LIMIT 1', [ds.name])).rowCount) {
    throw new DualrunError('DUALRUN_USAGE', `dataset ${ds.name} has keyed state (a stateful transform), which cannot be rewound to a point in time: replay it with --from-beginning`);
  }
  const source = sourceName(rt, ds);
  const startAt = from.kind === 'time' ? await positionsAt(rt, ds, from.at) : new Map<number, Position>();
  await history?.verify(from.kind === 'time' ? { ...from, from: startAt.get(0) ?? null } : from);
  const side = rebuildDataset(ds);
  await inTransaction(db, (c) => prepareRebuild(c, ds, live, side, from, startAt));
  rt.log.info({ dataset: ds.name, table: side.stream.output.text, from: fromText(from) }, 'replay: rebuilding on the side');
  const rebuild = await streamDataset(rt, side, { signal: rt.signal, untilIdle: true });
  const base = { dataset: ds.name, from: fromText(from), partitions: startAt.size, rebuild };
  if (rt.signal.aborted) return { ...base, swapped: false, rebuiltRows: 0, rowsDeleted: 0, rowsInserted: 0 };
  const swap = await inTransaction(db, (c) => swapIn(c, ds, live, side, source, from, startAt));
  await forgetRebuildGroup(rt, side);
  rt.log.info({ dataset: ds.name, ...swap }, 'replay: rebuilt table swapped in');
  return { ...base, swapped: true, ...swap };
}

/**
 * A replication slot holds no history (only changes not yet confirmed) and serves
 * one reader: a rebuild beside the running dataset would either miss what the slot
 * already released or take changes away from the live worker.
 */
function refuseLogicalCapture(rt: Runtime, ds: DatasetConfig): void {
  const s = requireStreamSource(ds);
  if (s.kind !== 'table' || s.capture !== 'logical' || rt.config.kafka) return;
  throw new DualrunError('DUALRUN_USAGE',
    `dataset ${ds.name} reads a logical replication slot (datasets.${ds.name}.stream.source.capture: logical), which keeps no history to replay from: ` +
    `relay it through Kafka (a topic keeps the history) or use capture: trigger to replay`, { details: { dataset: ds.name } });
}

function fromText(from: ReplayFrom): string {
  return from.kind === 'beginning' ? 'beginning' : from.at.toISOString();
}

/** The `source` the sink records for a dataset: the topic it consumes, or changelog:<table>. */
export function sourceName(rt: Runtime, ds: DatasetConfig): string {
  const s = requireStreamSource(ds);
  if (s.kind === 'topic' || rt.config.kafka) return s.topic;
  return s.capture === 'logical' ? logicalSourceName(s.table.text) : changelogSourceName(s.table.text);
}

/** A fresh rebuild table and state (a leftover of an interrupted replay is dropped: dualrun made it). */
async function prepareRebuild(c: PoolClient, ds: DatasetConfig, live: OutputTable, side: DatasetConfig, from: ReplayFrom, startAt: Map<number, Position>): Promise<void> {
  const t = side.stream.output.sql;
  await c.query(`DROP TABLE IF EXISTS ${t}`);
  for (const table of STATE_TABLES) await c.query(`DELETE FROM dualrun.${table} WHERE dataset = $1`, [side.name]);
  await c.query(`CREATE TABLE ${t} (LIKE ${live.table.sql} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING GENERATED INCLUDING IDENTITY)`);
  await c.query(`COMMENT ON TABLE ${t} IS ${quoteLiteral(`managed by dualrun: replay of dataset ${ds.name} (dropped after the swap)`)}`);
  if (from.kind === 'beginning') return;
  const cols = live.columns.map(quoteIdent).join(', ');
  // Rows not produced again by the replay stay (older than T, or written before dualrun tracked source time).
  await c.query(`INSERT INTO ${t} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${live.table.sql} WHERE _dr_source_ts < $1 OR _dr_source_ts IS NULL`, [from.at]);
  await c.query(`INSERT INTO dualrun.stream_tombstones (dataset, record_key, version, source_ts)
                 SELECT $2, record_key, version, source_ts FROM dualrun.stream_tombstones WHERE dataset = $1 AND source_ts < $3`, [ds.name, side.name, from.at]);
  await c.query(`INSERT INTO dualrun.stream_positions (dataset, source, partition, position, sub_position, event_time, records_applied, records_dead, updated_at)
                 SELECT $2, source, partition, position, sub_position, event_time, records_applied, records_dead, now() FROM dualrun.stream_positions WHERE dataset = $1`, [ds.name, side.name]);
  for (const [partition, pos] of startAt) {
    await c.query(
      `UPDATE dualrun.stream_positions SET position = $3, sub_position = $4, event_time = NULL, last_record = NULL, updated_at = now()
        WHERE dataset = $1 AND partition = $2 AND (position, sub_position) > ($3::bigint, $4::bigint)`,
      [side.name, partition, pos.major.toString(), pos.minor.toString()]);
  }
}

/** Makes the output equal the rebuilt table and hands the rebuild's state to the dataset, in the caller's transaction. */
async function swapIn(c: PoolClient, ds: DatasetConfig, live: OutputTable, side: DatasetConfig, source: string, from: ReplayFrom, startAt: Map<number, Position>) {
  await lockPartitions(c, ds.name, side.name, source, startAt);
  const t = live.table.sql;
  const s = side.stream.output.sql;
  const key = ds.key.map(quoteIdent);
  const match = key.map((k) => `r.${k} = o.${k}`).join(' AND ');
  const cols = live.columns.map(quoteIdent).join(', ');
  // Whole rows compared as text: a row that differs in any way is rewritten.
  const deleted = await c.query(`DELETE FROM ${t} o WHERE NOT EXISTS (SELECT 1 FROM ${s} r WHERE ${match} AND r::text = o::text)`);
  const inserted = await c.query(`INSERT INTO ${t} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${s} r WHERE NOT EXISTS (SELECT 1 FROM ${t} o WHERE ${match})`);
  const rows = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}`);
  if (from.kind === 'beginning') await c.query('DELETE FROM dualrun.dead_letters WHERE dataset = $1', [ds.name]);
  else for (const [partition, pos] of startAt) await deleteDeadLettersAfter(c, ds.name, source, partition, pos);
  for (const table of STATE_TABLES) {
    if (table !== 'dead_letters') await c.query(`DELETE FROM dualrun.${table} WHERE dataset = $1`, [ds.name]);
    await c.query(`UPDATE dualrun.${table} SET dataset = $1 WHERE dataset = $2`, [ds.name, side.name]);
  }
  await c.query(`DROP TABLE ${s}`);
  return { rebuiltRows: rows.rows[0].n, rowsDeleted: deleted.rowCount ?? 0, rowsInserted: inserted.rowCount ?? 0 };
}

/** The output's partition locks (the sink's), in order, so no batch of a running worker commits during the swap. */
async function lockPartitions(c: PoolClient, dataset: string, rebuild: string, source: string, extra: Map<number, Position>): Promise<void> {
  const r = await c.query<{ partition: number }>('SELECT DISTINCT partition FROM dualrun.stream_positions WHERE dataset = ANY($1)', [[dataset, rebuild]]);
  const parts = new Set([...r.rows.map((x) => x.partition), ...extra.keys(), 0]);
  for (const p of [...parts].sort((a, b) => a - b)) await lockPartition(c, { dataset, source, partition: p });
}

async function deleteDeadLettersAfter(c: PoolClient, dataset: string, source: string, partition: number, pos: Position): Promise<void> {
  if (source.startsWith('changelog:')) {
    // Changelog dead letters record the changelog id; re-read ids are those past (tx_id, id).
    await c.query(
      `DELETE FROM dualrun.dead_letters d WHERE d.dataset = $1 AND d.source = $2
          AND d.position IN (SELECT id FROM dualrun.changelog WHERE source_table = $3 AND (tx_id, id) > ($4::bigint, $5::bigint))`,
      [dataset, source, source.slice('changelog:'.length), pos.major.toString(), pos.minor.toString()]);
  } else {
    await c.query('DELETE FROM dualrun.dead_letters WHERE dataset = $1 AND source = $2 AND partition = $3 AND position > $4', [dataset, source, partition, pos.major.toString()]);
  }
}

/** The rebuild's Kafka consumer group served its purpose (best effort: a leftover group is harmless). */
async function forgetRebuildGroup(rt: Runtime, side: DatasetConfig): Promise<void> {
  const kafka = rt.config.kafka;
  if (!kafka) return;
  const admin = createKafka(kafka, rt.log).admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupIdFor(kafka, side.name)]);
  } catch (e) {
    rt.log.debug({ err: e }, 'replay: could not delete the rebuild consumer group');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Per partition, the position just before the first record at or after `at`. */
async function positionsAt(rt: Runtime, ds: DatasetConfig, at: Date): Promise<Map<number, Position>> {
  const kafka = rt.config.kafka;
  if (kafka) {
    const admin = createKafka(kafka, rt.log).admin();
    const what = `replay ${ds.name} --from-time`;
    // Like the worker's own start: brokers that do not answer are DUALRUN_KAFKA_UNREACHABLE within
    // kafka.connectTimeout (it was DUALRUN_INTERNAL after kafkajs's own retries).
    await withConnectDeadline(kafka.brokers, what, kafka.connectTimeoutMs, () => admin.connect(), rt.signal);
    try {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(sourceName(rt, ds), at.getTime()).catch((e: unknown) => { throw kafkaUnreachable(kafka.brokers, what, e); });
      return new Map(offsets.map((o) => [o.partition, { major: BigInt(o.offset) - 1n, minor: 0n }]));
    } finally {
      await disconnectWithin(admin);
    }
  }
  const db: Pool = await rt.db();
  const r = await db.query<{ tx: string | null }>('SELECT min(tx_id)::text AS tx FROM dualrun.changelog WHERE source_table = $1 AND ts >= $2', [changelogTable(ds), at]);
  const tx = r.rows[0].tx;
  // No change at or after T: nothing to re-read (position stays where it is).
  return tx === null ? new Map() : new Map([[0, { major: BigInt(tx), minor: -1n }]]);
}
