/**
 * Change capture from the write-ahead log (`source: { table, capture: logical }`):
 * a publication for the one source table and a logical replication slot using the
 * built-in `pgoutput` plugin, both named after the dataset and owned by dualrun.
 * Nothing is installed on the source table itself: no trigger, no DDL.
 *
 * The first snapshot: rows already in the table are copied into
 * `dualrun.capture_snapshots` AFTER the slot exists, and are delivered with
 * version 0. Every change the slot decodes committed after the slot's consistent
 * point and carries its WAL position as version (> 0), so for any key changed
 * after the slot was created the decoded change wins over the snapshot row,
 * whenever the snapshot was read; keys not changed since keep the snapshot row.
 * That is why the snapshot needs no exported snapshot and may be redone.
 */
import crypto from 'node:crypto';
import type { Pool } from '../../src/core/db/connect.ts';
import { inTransaction } from '../../src/core/db/connect.ts';
import { DualrunError } from '../../src/core/errors.ts';
import { quoteIdent, type TableRef } from '../../src/core/identifiers.ts';

export interface LogicalNames { readonly slot: string; readonly publication: string }

/** `dualrun_<dataset>` folded to what slot names allow ([a-z0-9_], ≤ 63), with a hash when folding changed it. */
export function logicalNames(dataset: string): LogicalNames {
  const folded = dataset.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const exact = folded === dataset && folded.length <= 50;
  const base = exact ? folded : `${folded.slice(0, 40)}_${crypto.createHash('sha1').update(dataset).digest('hex').slice(0, 8)}`;
  return Object.freeze({ slot: `dualrun_${base}`, publication: `dualrun_${base}` });
}

export interface LogicalInstall {
  readonly table: string;
  readonly slot: string;
  readonly publication: string;
  /** True when this call created the slot (and took the first snapshot). */
  readonly installed: boolean;
  readonly snapshotRows: number;
}

async function requireLogicalWal(db: Pool, dataset: string): Promise<void> {
  const r = await db.query<{ wal_level: string }>('SHOW wal_level');
  if (r.rows[0].wal_level !== 'logical') {
    throw new DualrunError('DUALRUN_CONFIG_INVALID',
      `datasets.${dataset}.stream.source.capture is logical, but the server runs with wal_level = ${r.rows[0].wal_level}: set wal_level = logical (a restart) or use capture: trigger`);
  }
}

/** Deletes need the key in the old row image: a primary key (replica identity default), an index, or FULL. */
async function requireReplicaIdentity(db: Pool, dataset: string, table: TableRef): Promise<void> {
  const r = await db.query<{ ident: string; has_pk: boolean }>(
    `SELECT c.relreplident AS ident, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
       FROM pg_class c WHERE c.oid = to_regclass($1)`, [table.sql]);
  const row = r.rows[0] as { ident: string; has_pk: boolean } | undefined;
  if (!row) throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${dataset}.stream.source.table ${table.text} does not exist in the toolkit database`);
  if (row.ident === 'n' || (row.ident === 'd' && !row.has_pk)) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID',
      `datasets.${dataset}.stream.source.table ${table.text} has no primary key (or replica identity), so deletes would carry no key: add one, or use capture: trigger`);
  }
}

/** Idempotent: an existing slot with a finished snapshot is left as it is. */
export async function installLogicalCapture(db: Pool, dataset: string, table: TableRef): Promise<LogicalInstall> {
  await requireLogicalWal(db, dataset);
  await requireReplicaIdentity(db, dataset, table);
  const names = logicalNames(dataset);
  const lock = await db.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`dualrun.capture/logical/${dataset}`]);
    const state = await lock.query<{ snapshot_done: boolean }>('SELECT snapshot_done FROM dualrun.logical_captures WHERE dataset = $1', [dataset]);
    const slot = await lock.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
    if (state.rows[0]?.snapshot_done && slot.rowCount) return { table: table.text, ...names, installed: false, snapshotRows: 0 };
    const pub = await lock.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [names.publication]);
    if (!pub.rowCount) await lock.query(`CREATE PUBLICATION ${quoteIdent(names.publication)} FOR TABLE ${table.sql}`);
    // Outside any transaction: a slot cannot be created by one that has written.
    if (!slot.rowCount) await lock.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [names.slot]);
    const snapshotRows = await takeSnapshot(db, dataset, table, names);
    return { table: table.text, ...names, installed: true, snapshotRows };
  } finally {
    await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`dualrun.capture/logical/${dataset}`]).catch(() => undefined);
    lock.release();
  }
}

async function takeSnapshot(db: Pool, dataset: string, table: TableRef, names: LogicalNames): Promise<number> {
  return inTransaction(db, async (c) => {
    await c.query('DELETE FROM dualrun.capture_snapshots WHERE dataset = $1', [dataset]);
    // t.*, not t: a column named t would be taken for the row (its value snapshotted instead of the row).
    const ins = await c.query(`INSERT INTO dualrun.capture_snapshots (dataset, row) SELECT $1, to_jsonb(t.*) FROM ${table.sql} t`, [dataset]);
    await c.query(
      `INSERT INTO dualrun.logical_captures (dataset, source_table, slot, publication, snapshot_rows, snapshot_done)
       VALUES ($1, $2, $3, $4, $5, true)
       ON CONFLICT (dataset) DO UPDATE SET source_table = EXCLUDED.source_table, slot = EXCLUDED.slot, publication = EXCLUDED.publication,
         snapshot_rows = EXCLUDED.snapshot_rows, snapshot_done = true, created_at = now()`,
      [dataset, table.text, names.slot, names.publication, ins.rowCount ?? 0]);
    return ins.rowCount ?? 0;
  });
}

/** Drops the slot, the publication and the snapshot rows dualrun made for the dataset (nothing else). */
export async function removeLogicalCapture(db: Pool, dataset: string): Promise<{ slot: string; removed: boolean }> {
  const names = logicalNames(dataset);
  const known = await db.query('SELECT 1 FROM dualrun.logical_captures WHERE dataset = $1 AND slot = $2', [dataset, names.slot]);
  if (!known.rowCount) return { slot: names.slot, removed: false };
  const active = await db.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
  if (active.rows[0]?.pid) throw new DualrunError('DUALRUN_CONFLICT', `replication slot ${names.slot} is in use by backend ${active.rows[0].pid}: stop the stream worker first`);
  if (active.rowCount) await db.query('SELECT pg_drop_replication_slot($1)', [names.slot]);
  await db.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(names.publication)}`);
  await inTransaction(db, async (c) => {
    await c.query('DELETE FROM dualrun.capture_snapshots WHERE dataset = $1', [dataset]);
    await c.query('DELETE FROM dualrun.logical_captures WHERE dataset = $1', [dataset]);
  });
  return { slot: names.slot, removed: true };
}

export interface SlotStatus { readonly slot: string; readonly exists: boolean; readonly retainedBytes: number | null; readonly confirmedLsn: string | null }

/** How much WAL each dataset's slot holds back (the server cannot recycle it until the worker confirms); one query. */
export async function slotStatuses(db: Pool, datasets: readonly string[]): Promise<Map<string, SlotStatus>> {
  const slots = datasets.map((d) => logicalNames(d).slot);
  const r = await db.query<{ slot: string; retained: string | null; confirmed: string | null }>(
    `SELECT slot_name AS slot, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text AS retained, confirmed_flush_lsn::text AS confirmed
       FROM pg_replication_slots WHERE slot_name = ANY($1)`, [slots]);
  const found = new Map(r.rows.map((row) => [row.slot, row]));
  return new Map(datasets.map((d, i) => {
    const row = found.get(slots[i]);
    return [d, { slot: slots[i], exists: !!row, retainedBytes: row?.retained ? Number(row.retained) : null, confirmedLsn: row?.confirmed ?? null }];
  }));
}
