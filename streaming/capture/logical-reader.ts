/**
 * Reading a dataset's logical replication slot as pages of source records in
 * Debezium shape (the same shape the trigger changelog has, so one decoder serves
 * both), without consuming anything: the slot is peeked, and only `confirm()` —
 * called once the page's effects are committed downstream — advances it. So the
 * slot's confirmed position never passes what the sink committed, and a crash
 * anywhere re-delivers, which the sink's stored positions make harmless.
 *
 * Positions: (end LSN of the transaction's commit record, index of the change in
 * it), in commit order; the slot is only ever advanced to such an end, so its
 * confirmed LSN is never past the sink's stored position. Version of a change: its own WAL position, which per key follows commit
 * order (a second writer of a row waits for the first one's commit). Values are
 * turned into typed JSON by Postgres itself (`jsonb_populate_record` of the
 * source table's row type, then `to_jsonb`), exactly as the trigger's `to_jsonb(NEW)`.
 */
import type { Pool } from '../../src/core/db/connect.ts';
import type { TableRef } from '../../src/core/identifiers.ts';
import { databaseErrorFields } from '../../src/core/errors.ts';
import { sleep } from '../abortable-sleep.ts';
import { stoppedError } from '../../src/core/stopped.ts';
import type { Position, SourceRecord } from '../transport.ts';
import { decodePgOutput, parseLsn, formatLsn, type PgOutputMessage, type RelationColumn, type TupleValue } from './pgoutput-messages.ts';

export interface LogicalPage {
  readonly records: SourceRecord[];
  /** Non-null when the page reached the head: when the head was seen. */
  readonly headSeenAt: Date | null;
  /** Advances the slot past every transaction of this page; call only after they are committed downstream. */
  confirm(): Promise<void>;
}

export interface LogicalFollowOptions {
  readonly slot: string;
  readonly publication: string;
  readonly table: TableRef;
  readonly limit: number;
  readonly pollMs: number;
  readonly signal: AbortSignal;
  readonly untilIdle: boolean;
}

interface Change { op: 'c' | 'u' | 'd'; position: Position; lsn: bigint; xid: number; at: Date; before: string | null; after: string | null; unchanged: string[] }

const JSON_TYPES = new Set([114, 3802]);

/** Which columns of the relation hold json/jsonb (domains resolved), so their text is embedded as JSON. */
async function jsonColumns(db: Pool, columns: readonly RelationColumn[]): Promise<Set<string>> {
  const r = await db.query<{ oid: number; base: number }>(
    `WITH RECURSIVE t(oid, base) AS (SELECT oid, oid FROM pg_type WHERE oid = ANY($1::oid[])
       UNION ALL SELECT t.oid, p.typbasetype FROM t JOIN pg_type p ON p.oid = t.base WHERE p.typtype = 'd')
     SELECT oid, base FROM t`, [columns.map((c) => c.typeOid)]);
  const json = new Set(r.rows.filter((x) => JSON_TYPES.has(Number(x.base))).map((x) => Number(x.oid)));
  return new Set(columns.filter((c) => json.has(c.typeOid)).map((c) => c.name));
}

/** A tuple as JSON text of text values (JSON columns embedded as they are); unchanged TOAST values left out. */
function tupleJson(columns: readonly RelationColumn[], values: readonly TupleValue[], json: Set<string>, unchanged?: string[]): string {
  const parts: string[] = [];
  values.forEach((v, i) => {
    const name = columns[i].name;
    if (v.kind === 'unchanged') { unchanged?.push(name); return; }
    const value = v.kind === 'null' ? 'null' : json.has(name) ? v.text : JSON.stringify(v.text);
    parts.push(`${JSON.stringify(name)}:${value}`);
  });
  return `{${parts.join(',')}}`;
}

class TransactionDecoder {
  private relation: { columns: RelationColumn[]; json: Set<string> } | null = null;
  private tx: { xid: number; at: Date; changes: Omit<Change, 'position'>[] } | null = null;
  readonly changes: Change[] = [];
  /** End of the last complete transaction decoded: where the slot may be advanced to. */
  lastEnd: bigint | null = null;

  constructor(private readonly db: Pool) {}

  async add(lsn: string, m: PgOutputMessage): Promise<void> {
    if (m.type === 'relation') { this.relation = { columns: m.columns, json: await jsonColumns(this.db, m.columns) }; return; }
    if (m.type === 'begin') { this.tx = { xid: m.xid, at: m.commitTime, changes: [] }; return; }
    if (m.type === 'commit') { this.commit(m.endLsn); return; }
    if (m.type !== 'insert' && m.type !== 'update' && m.type !== 'delete') return; // truncate: not a row change (as with triggers)
    if (!this.tx || !this.relation) throw new Error('pgoutput: a row change outside a transaction or before its relation');
    const { columns, json } = this.relation;
    const unchanged: string[] = [];
    this.tx.changes.push({
      op: m.type === 'insert' ? 'c' : m.type === 'update' ? 'u' : 'd',
      lsn: parseLsn(lsn), xid: this.tx.xid, at: this.tx.at,
      before: m.type === 'insert' || !m.before ? null : tupleJson(columns, m.before, json),
      after: m.type === 'delete' ? null : tupleJson(columns, m.after, json, unchanged),
      unchanged,
    });
  }

  /** Positions are (end of the commit record, index): the slot is advanced to exactly such an end. */
  private commit(endLsn: bigint): void {
    this.tx?.changes.forEach((c, i) => this.changes.push({ ...c, position: { major: endLsn, minor: BigInt(i + 1) } }));
    this.tx = null;
    this.lastEnd = endLsn;
  }
}

/** The changes as Debezium-shaped JSON texts, typed by Postgres from the source table's row type. */
async function toRecords(db: Pool, table: TableRef, changes: readonly Change[]): Promise<SourceRecord[]> {
  if (changes.length === 0) return [];
  const r = await db.query<{ value: string }>(
    `SELECT json_build_object('op', e.op,
        'before', CASE WHEN e.b IS NULL THEN NULL ELSE to_jsonb(jsonb_populate_record(NULL::${table.sql}, e.b)) END,
        'after', CASE WHEN e.a IS NULL THEN NULL ELSE to_jsonb(jsonb_populate_record(NULL::${table.sql}, e.a)) - ARRAY(SELECT jsonb_array_elements_text(e.u)) END,
        'ts_ms', e.ts,
        'source', json_build_object('connector', 'dualrun', 'capture', 'logical', 'table', $7::text, 'lsn', e.l, 'txId', e.x, 'ts_ms', e.ts))::text AS value
       FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::jsonb[], $5::text[], $6::bigint[], $8::bigint[]) WITH ORDINALITY AS e(op, b, a, u, l, x, ts, ord)
      ORDER BY e.ord`,
    [changes.map((c) => c.op), changes.map((c) => c.before), changes.map((c) => c.after), changes.map((c) => JSON.stringify(c.unchanged)),
      changes.map((c) => c.lsn.toString()), changes.map((c) => c.xid), table.text, changes.map((c) => c.at.getTime())]);
  return changes.map((c, i) => ({ position: c.position, key: null, value: r.rows[i].value, timestamp: c.at, fallbackVersion: c.lsn }));
}

/** How long a slot held by another backend is waited for before the worker gives up (exit 3). */
export const SLOT_BUSY_WAIT_MS = 30_000;

/**
 * A call that acquires the slot for its duration (peek, advance). Another backend
 * may hold it for a moment: a killed worker's backend still finishing its last
 * peek (it notices the closed socket only when that call ends), or a second worker
 * between its calls. Postgres then refuses with 55006 (object in use): wait for it,
 * backing off, rather than fail the worker on a crash restart.
 */
async function onSlot<T>(call: () => Promise<T>, signal: AbortSignal, waitMs = SLOT_BUSY_WAIT_MS): Promise<T> {
  const until = Date.now() + waitMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await call();
    } catch (e) {
      if (databaseErrorFields(e)?.code !== '55006' || Date.now() + delay > until) throw e;
      await sleep(delay, signal);
      // Stopped while waiting for the slot: a stop, not the slot's failure (it exited 3 with the 55006).
      if (signal.aborted) throw stoppedError('waiting for the replication slot', signal);
    }
  }
}

/** One peek: whole transactions, at least `limit` changes when that many are committed. */
async function peek(db: Pool, o: LogicalFollowOptions): Promise<{ changes: Change[]; end: bigint | null; rows: number }> {
  const r = await onSlot(() => db.query<{ lsn: string; data: Buffer }>(
    `SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes($1, NULL, $2, 'proto_version', '1', 'publication_names', $3)`,
    [o.slot, o.limit, o.publication]), o.signal);
  const tx = new TransactionDecoder(db);
  for (const row of r.rows) await tx.add(row.lsn, decodePgOutput(row.data));
  return { changes: tx.changes, end: tx.lastEnd, rows: r.rows.length };
}

/** WAL written but not yet flushed may hold committed transactions decoding cannot see yet (synchronous_commit = off). */
async function unflushedWal(db: Pool, since: string): Promise<boolean> {
  const r = await db.query<{ behind: boolean }>('SELECT pg_current_wal_flush_lsn() < $1::pg_lsn AS behind', [since]);
  return r.rows[0].behind;
}

/**
 * The slot's pages from its confirmed position on, until aborted or (untilIdle)
 * drained. A page whose records are all at or below `from` is still yielded (and
 * must be confirmed): the slot may lag the sink after a crash between the two.
 */
export async function* followLogical(db: Pool, from: Position, o: LogicalFollowOptions): AsyncGenerator<LogicalPage> {
  while (!o.signal.aborted) {
    const insertLsn = (await db.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
    const { changes, end, rows } = await peek(db, o);
    // Decoding stopped short of the limit: nothing more is committed (and flushed) yet.
    const caughtUp = rows < o.limit;
    if (end !== null) {
      const fresh = changes.filter((c) => c.position.major > from.major || (c.position.major === from.major && c.position.minor > from.minor));
      const target = formatLsn(end);
      yield {
        records: await toRecords(db, o.table, fresh),
        headSeenAt: caughtUp ? new Date() : null,
        confirm: async () => { await onSlot(() => db.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [o.slot, target]), o.signal); },
      };
      continue; // re-peek: idle only once a peek finds nothing
    }
    if (await unflushedWal(db, insertLsn)) { await sleep(20, o.signal); continue; }
    yield { records: [], headSeenAt: new Date(), confirm: async () => undefined };
    if (o.untilIdle) return;
    await sleep(o.pollMs, o.signal);
  }
}

export interface SnapshotPage { readonly records: SourceRecord[]; readonly done: boolean }

/** The first snapshot's rows (op `r`, version 0) after a position, in id order. */
export async function readSnapshot(db: Pool, dataset: string, table: TableRef, after: Position, limit: number): Promise<SnapshotPage> {
  const r = await db.query<{ id: string; value: string }>(
    `SELECT s.id::text, json_build_object('op', 'r', 'before', NULL, 'after', s.row, 'ts_ms', (extract(epoch FROM c.created_at) * 1000)::bigint,
        'source', json_build_object('connector', 'dualrun', 'capture', 'logical', 'table', $4::text, 'lsn', '0', 'snapshot', true,
                                    'ts_ms', (extract(epoch FROM c.created_at) * 1000)::bigint))::text AS value
       FROM dualrun.capture_snapshots s JOIN dualrun.logical_captures c USING (dataset)
      WHERE s.dataset = $1 AND s.id > $2 ORDER BY s.id LIMIT $3`,
    [dataset, after.major.toString(), limit, table.text]);
  const at = new Date();
  const records = r.rows.map((row): SourceRecord => ({ position: { major: BigInt(row.id), minor: 0n }, key: null, value: row.value, timestamp: at, fallbackVersion: 0n }));
  return { records, done: records.length < limit };
}
