/**
 * Replay: `--from-beginning` or `--from-time T` rebuilds the stream output from the
 * source in one step. In one transaction (under the same advisory locks the sink
 * takes) it resets the positions and removes what the replayed records will
 * produce again: output rows, tombstones, dead letters, keyed state, watermark.
 * It refuses when the output has rows unless `--reset-output` is given.
 *
 *   from the beginning: everything of the dataset is cleared; positions are gone,
 *     so Kafka seeks back to each partition's start and the changelog is re-read.
 *   from time T: output rows and tombstones with `_dr_source_ts >= T` are removed
 *     and each partition restarts at its first record at or after T (Kafka:
 *     offsets by timestamp; changelog: the oldest transaction with a change at or
 *     after T). Older records read again are no-ops (their version is already
 *     there). Keyed state cannot be rewound to T, so a stateful dataset must replay
 *     from the beginning.
 */
import { requireStreamSource } from '../src/config/stream-source.ts';
import type { DatasetConfig } from '../src/config/types.ts';
import { inTransaction, type Pool, type PoolClient } from '../src/db/connect.ts';
import { DualrunError } from '../src/errors.ts';
import type { Runtime } from '../src/runtime.ts';
import { createKafka } from './kafka-client.ts';
import { prepareOutputTable } from './output-table.ts';
import { lockPartition } from './positions.ts';
import { streamDatabase } from './stream-database.ts';
import { changelogTable } from './transport-for-dataset.ts';
import { changelogSourceName } from './changelog-transport.ts';
import { logicalSourceName } from './logical-transport.ts';
import type { Position } from './transport.ts';

export type ReplayFrom = { readonly kind: 'beginning' } | { readonly kind: 'time'; readonly at: Date };

export interface ReplayResult { dataset: string; from: string; outputRowsRemoved: number; partitions: number }

export async function resetForReplay(rt: Runtime, ds: DatasetConfig, from: ReplayFrom, resetOutput: boolean): Promise<ReplayResult> {
  const db = await streamDatabase(rt, ds);
  await prepareOutputTable(db, ds.stream.output, ds.key);
  const t = ds.stream.output.sql;
  const has = await db.query(`SELECT 1 FROM ${t} LIMIT 1`);
  if (has.rowCount && !resetOutput) {
    throw new DualrunError('DUALRUN_USAGE', `stream.output ${ds.stream.output.text} of dataset ${ds.name} has rows; replay removes and rebuilds them: add --reset-output to confirm`, { details: { dataset: ds.name } });
  }
  const source = sourceName(rt, ds);
  const startAt = from.kind === 'time' ? await positionsAt(rt, ds, from.at) : new Map<number, Position>();
  return inTransaction(db, async (c) => {
    await lockPartitions(c, ds.name, source, startAt);
    const removed = from.kind === 'beginning' ? await clearAll(c, ds) : await clearFrom(c, ds, source, from.at, startAt);
    return { dataset: ds.name, from: from.kind === 'beginning' ? 'beginning' : from.at.toISOString(), outputRowsRemoved: removed, partitions: startAt.size };
  });
}

/** The `source` the sink records for a dataset: the topic it consumes, or changelog:<table>. */
export function sourceName(rt: Runtime, ds: DatasetConfig): string {
  const s = requireStreamSource(ds);
  if (s.kind === 'topic' || rt.config.kafka) return s.topic;
  return s.capture === 'logical' ? logicalSourceName(s.table.text) : changelogSourceName(s.table.text);
}

async function lockPartitions(c: PoolClient, dataset: string, source: string, extra: Map<number, Position>): Promise<void> {
  const r = await c.query<{ partition: number }>('SELECT partition FROM dualrun.stream_positions WHERE dataset = $1', [dataset]);
  const parts = new Set([...r.rows.map((x) => x.partition), ...extra.keys(), 0]);
  for (const p of [...parts].sort((a, b) => a - b)) {
    await lockPartition(c, { dataset, source, partition: p });
  }
}

async function clearAll(c: PoolClient, ds: DatasetConfig): Promise<number> {
  const n = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${ds.stream.output.sql}`);
  await c.query(`TRUNCATE ${ds.stream.output.sql}`);
  for (const table of ['stream_positions', 'stream_tombstones', 'dead_letters', 'keyed_state', 'watermarks']) {
    await c.query(`DELETE FROM dualrun.${table} WHERE dataset = $1`, [ds.name]);
  }
  return Number(n.rows[0].n);
}

async function clearFrom(c: PoolClient, ds: DatasetConfig, source: string, at: Date, startAt: Map<number, Position>): Promise<number> {
  const state = await c.query('SELECT 1 FROM dualrun.keyed_state WHERE dataset = $1 LIMIT 1', [ds.name]);
  if (state.rowCount) throw new DualrunError('DUALRUN_USAGE', `dataset ${ds.name} has keyed state (a stateful transform), which cannot be rewound to a point in time: replay it with --from-beginning`);
  const removed = await c.query(`DELETE FROM ${ds.stream.output.sql} WHERE _dr_source_ts >= $1`, [at]);
  await c.query('DELETE FROM dualrun.stream_tombstones WHERE dataset = $1 AND source_ts >= $2', [ds.name, at]);
  for (const [partition, pos] of startAt) {
    await c.query(
      `UPDATE dualrun.stream_positions SET position = $4, sub_position = $5, event_time = NULL, updated_at = now()
        WHERE dataset = $1 AND source = $2 AND partition = $3 AND (position, sub_position) > ($4::bigint, $5::bigint)`,
      [ds.name, source, partition, pos.major.toString(), pos.minor.toString()]);
    await deleteDeadLettersAfter(c, ds.name, source, partition, pos);
  }
  await c.query(`UPDATE dualrun.watermarks SET event_time = least(event_time, $2), updated_at = now() WHERE dataset = $1`, [ds.name, at]);
  return removed.rowCount ?? 0;
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

/** Per partition, the position just before the first record at or after `at`. */
async function positionsAt(rt: Runtime, ds: DatasetConfig, at: Date): Promise<Map<number, Position>> {
  const kafka = rt.config.kafka;
  if (kafka) {
    const admin = createKafka(kafka, rt.log).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(sourceName(rt, ds), at.getTime());
      return new Map(offsets.map((o) => [o.partition, { major: BigInt(o.offset) - 1n, minor: 0n }]));
    } finally {
      await admin.disconnect();
    }
  }
  const db: Pool = await rt.db();
  const r = await db.query<{ tx: string | null }>('SELECT min(tx_id)::text AS tx FROM dualrun.changelog WHERE source_table = $1 AND ts >= $2', [changelogTable(ds), at]);
  const tx = r.rows[0].tx;
  // No change at or after T: nothing to re-read (position stays where it is).
  return tx === null ? new Map() : new Map([[0, { major: BigInt(tx), minor: -1n }]]);
}
