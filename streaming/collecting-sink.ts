/**
 * The exactly-once sink for a backlog: one Postgres transaction per partition that
 * collects many batches before it commits. Each batch is decoded, validated and
 * turned into COPY text at once (node keeps nothing else of it), which goes to the
 * transaction's one open COPY in the partition's order, its dead letters written;
 * the merge runs once, when the transaction commits, and
 * writes each key once however many versions it collected. So catching up writes
 * a key once per transaction instead of once per batch, and Postgres applies one
 * partition while node decodes the next batches.
 *
 * A transaction commits when its partition reaches the head (so a caught-up stream
 * is as fresh as with one transaction per batch), after `maxRows` changes or
 * `maxAgeMs`, when it got no batch for `idleMs` (a revoked or stalled partition
 * must not hold its lock), when more partitions are open than `maxOpen` (the least
 * recently used commits), and at stop. A commit runs in the background: the
 * partition's next batches go to the next transaction at once, which begins after
 * it. The fence is the same as applyBatch's: the partition lock is held from the
 * begin, the stored position read under it, and records at or below it (or below
 * what this transaction already holds) skipped; a transaction that took batches
 * before its begin requires the stored position to be where its predecessor ended.
 *
 * A data error (bad value, constraint) anywhere in the transaction rolls it all
 * back; the partition is then redelivered from its stored position and applied one
 * batch per transaction by applyBatch, which finds the bad records by bisection,
 * until past where the failed transaction ended ("careful" mode). Only stateless
 * transforms on tables the COPY path serves come here (see `collectingApplies`).
 */
import type { Pool, PoolClient } from '../src/core/db/connect.ts';
import { DualrunError } from '../src/core/errors.ts';
import { writeDeadLetters } from './dead-letters.ts';
import { applyBatch, isDataError, refuseValues, type BatchOutcome, type SinkDeps } from './exactly-once-sink.ts';
import type { CollectingStage } from './output-merge.ts';
import { advancePosition, lockAndReadPosition, type PartitionRef } from './positions.ts';
import { runPipeline, type DeadLetter } from './record-pipeline.ts';
import { OpenCopy } from './open-copy.ts';
import { recordIdentity } from './record-identity.ts';
import { comparePositions, type BatchAck, type BatchContext, type Position, type SourceBatch } from './transport.ts';

export interface CollectingOptions {
  /** Connections for the open transactions (one per partition), at most `maxOpen`. */
  readonly pool: Pool;
  readonly maxOpen: number;
  readonly maxRows: number;
  readonly maxAgeMs: number;
  readonly idleMs: number;
  /** Told of every committed transaction (or careful batch): counts for metrics and the summary. */
  readonly onCommitted: (c: CommittedWork) => void;
}

/** Records per pipeline pass: small enough that a pass's objects never leave V8's young generation. */
const PIPELINE_CHUNK = 1000;

export const COLLECTING_DEFAULTS = { maxOpen: 8, maxRows: 250_000, maxAgeMs: 5000, idleMs: 2000 } as const;

export interface CommittedWork {
  readonly partition: number;
  readonly records: number;
  readonly outcome: BatchOutcome;
  readonly lagRecords: number | null;
  readonly headSeenAt: Date | null;
  readonly seconds: number;
}

interface OpenTxn {
  readonly partition: number;
  readonly ref: PartitionRef;
  /** The session, once the transaction has begun in the partition's order (after its predecessor's commit). */
  client: PoolClient | null;
  readonly openedAt: number;
  /** Through where records are handed to this transaction (COPYs still queued included). */
  accepted: Position;
  /** Through where this transaction holds records (COPYs done); where it began until one is. */
  last: Position;
  /** The identity of the record at `last` once it holds one (record-identity.ts). */
  lastIdentity: string | null;
  /** The first record handed to it. */
  first: Position | null;
  touchedAt: number;
  /** idleMs and maxAgeMs, shortened to half the role's idle_in_transaction_session_timeout and statement_timeout (read at begin). */
  idleLimit: number;
  ageLimit: number;
  busy: boolean;
  /** The partition's generation it belongs to: after a rollback, queued work of an older one does nothing. */
  readonly generation: number;
  /** The stage the pipeline fills, and the one the session's table is prepared for. */
  stage: CollectingStage | null;
  dbStage: CollectingStage | null;
  /** The stage's COPY, open until another statement needs the session. */
  copy: OpenCopy | null;
  /** Changes handed to this transaction (queued COPYs included), the next one's order; when it is due. */
  seq: number;
  staged: number;
  deletes: boolean;
  records: number;
  fresh: number;
  dead: number;
  deadByStage: Record<string, number>;
  maxSourceTs: Date | null;
  headSeenAt: Date | null;
  lagRecords: number | null;
}

/** One COPY of a batch's changes into one stage (a batch spans several when its column set changes). */
interface Segment { readonly stage: CollectingStage; text: string; rows: number; deletes: boolean }

/** COPY text a partition may have queued behind its commit before its next batch waits (bounds memory). */
const QUEUED_TEXT_LIMIT = 1024 * 1024;

/** One batch in one transaction (applyBatch), reported as committed work. */
export async function applyOneBatch(deps: SinkDeps, batch: SourceBatch): Promise<CommittedWork> {
  const started = performance.now();
  const outcome = await applyBatch(deps, batch);
  return { partition: batch.partition, records: batch.records.length, outcome, lagRecords: batch.lagRecords, headSeenAt: batch.headSeenAt, seconds: (performance.now() - started) / 1000 };
}

/** Whether the collecting sink can serve this dataset: a stateless transform and a table COPY serves. */
export function collectingApplies(deps: Pick<SinkDeps, 'transform' | 'merge'>): boolean {
  return deps.transform.stateKey === null && deps.merge.collecting([]) !== null;
}

export class CollectingSink {
  /** Per partition, the transaction that takes its next batches (its predecessors may still be committing). */
  private readonly current = new Map<number, OpenTxn>();
  /** Per partition, where the last transaction handed to its commit ends: where the next one must begin. */
  private readonly handedOver = new Map<number, Position>();
  /** Per partition, the database work in order: begin, COPYs, commits (one transaction's statements never interleave). */
  private readonly chains = new Map<number, Promise<unknown>>();
  /** Per partition, the batches in order: decoding and COPY text, which do not wait for the database. */
  private readonly batchChains = new Map<number, Promise<unknown>>();
  /** Per partition, bumped when what it queued is dropped (a rollback): older transactions are void. */
  private readonly generations = new Map<number, number>();
  /** Per partition, COPY text handed over and not yet sent. */
  private readonly queuedText = new Map<number, number>();
  /** Partitions applied one batch per transaction through this position (after a data error). */
  private readonly careful = new Map<number, Position>();
  /** Per partition, its transactions not yet committed, oldest first. */
  private readonly uncommitted = new Map<number, OpenTxn[]>();
  /**
   * Partitions whose queued work was dropped: batches are refused until one starts at or
   * before the first record dropped (null: none was), i.e. until the transport delivers
   * the partition again from the stored position; a batch fetched before that would leave a gap.
   */
  private readonly rewind = new Map<number, Position | null>();
  /** Per partition, how to reach the transport from a commit that runs after its batch was handled. */
  private readonly contexts = new Map<number, BatchContext>();
  private failure: unknown = null;
  private timer: NodeJS.Timeout;
  private closing = false;

  private tickMs: number;

  constructor(private readonly deps: SinkDeps, private readonly o: CollectingOptions) {
    this.tickMs = Math.max(50, Math.floor(o.idleMs / 2));
    this.timer = setInterval(() => this.commitIdle(), this.tickMs);
    this.timer.unref();
  }

  /** Shortens the transaction's limits to half the role's timeouts (0: none); the idle check runs often enough for them. */
  private bound(t: OpenTxn, statementMs: number, idleInTxnMs: number): void {
    if (statementMs > 0) { t.ageLimit = Math.min(t.ageLimit, statementMs / 2); t.idleLimit = Math.min(t.idleLimit, statementMs / 2); }
    if (idleInTxnMs > 0) t.idleLimit = Math.min(t.idleLimit, idleInTxnMs / 2);
    const tick = Math.max(50, Math.floor(Math.min(t.idleLimit, t.ageLimit) / 2));
    if (tick >= this.tickMs || this.closing) return;
    clearInterval(this.timer);
    this.tickMs = tick;
    this.timer = setInterval(() => this.commitIdle(), tick);
    this.timer.unref();
  }

  /** Applies a batch; `pending` while its transaction stays open, `rewind` when it must be delivered again. */
  handle(batch: SourceBatch, ctx?: BatchContext): Promise<BatchAck> {
    const p = batch.partition;
    // A new context is a new assignment (kafka-transport.ts makes one per assignment), which starts at the stored
    // position by itself: a refusal left from before the revocation would refuse it for good (another owner moved
    // the position past the first record it waited for). Cleared in order, after the old assignment's batches.
    const assigned = ctx !== undefined && this.contexts.has(p) && this.contexts.get(p) !== ctx;
    if (ctx) this.contexts.set(p, ctx);
    return serially(this.batchChains, p, () => {
      if (assigned) this.rewind.delete(p);
      return this.handleNow(batch);
    });
  }

  /** Partitions moved to another worker: their open transactions commit now (the new owner waits on their locks). */
  release(partitions: readonly number[]): void {
    for (const p of partitions) {
      const t = this.current.get(p);
      if (t) this.handOver(t);
      this.handedOver.delete(p); // if it comes back, the next transaction reads where it stands
    }
  }

  /** Resolves once the work queued so far (background commits included) is done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.batchChains.values()]);
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Commits (or, after a failure, rolls back) every open transaction and stops the timer. */
  async close(commit: boolean): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    await this.settled();
    const all = [...this.current.values()].map((t) => {
      this.current.delete(t.partition);
      return this.inOrder(t.partition, async () => {
        if (commit && !this.failure) await this.commitAndTell(t); else await this.rollback(t, null);
      });
    });
    const results = await Promise.allSettled(all);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.failure) throw this.failure;
    if (failed) throw failed.reason;
  }

  private async handleNow(batch: SourceBatch): Promise<BatchAck> {
    if (this.failure) throw this.failure;
    const p = batch.partition;
    if (this.rewind.has(p)) {
      const from = this.rewind.get(p)!;
      if (from !== null && batch.records.length > 0 && comparePositions(batch.records[0].position, from) > 0) return { pending: false, rewind: true };
      this.rewind.delete(p);
    }
    const last = batch.records[batch.records.length - 1]?.position;
    const through = this.careful.get(p);
    if (through && last) {
      if (comparePositions(last, through) >= 0) this.careful.delete(p);
      const t = this.current.get(p);
      if (t) this.handOver(t);
      return this.inOrder(p, async () => {
        this.o.onCommitted(await applyOneBatch(this.deps, batch));
        return { pending: false };
      });
    }
    const t = this.current.get(p) ?? (await this.open(p));
    if (!t) return { pending: false, rewind: true };
    // Busy from here: the idle commit must not take the transaction while its batch waits below.
    t.busy = true;
    try {
      // Memory stays bounded while a commit holds the partition's queue.
      for (let c = this.chains.get(p); c && (this.queuedText.get(p) ?? 0) > QUEUED_TEXT_LIMIT; c = this.chains.get(p)) await c;
      // Handed to its commit meanwhile (the partition revoked): the batch must come again, from the stored position.
      if (this.current.get(p) !== t) return { pending: false, rewind: true };
      t.records += batch.records.length;
      t.lagRecords = batch.lagRecords;
      t.headSeenAt = batch.headSeenAt;
      const fresh = batch.records.filter((r) => comparePositions(r.position, t.accepted) > 0);
      if (fresh.length > 0 && !(await this.collect(t, fresh))) return { pending: false, rewind: true };
      t.touchedAt = Date.now();
      const due = batch.headSeenAt !== null || t.seq >= this.o.maxRows || Date.now() - t.openedAt >= t.ageLimit;
      // At the head the commit runs in the background (the next batch goes to a new transaction at once); in a
      // backlog the partition waits for it, or kafkajs fetches ahead of Postgres (5M events: 185 MB instead of ~130).
      if (due && batch.headSeenAt !== null) this.handOver(t);
      else if (due) await this.handOver(t);
      return { pending: true };
    } finally {
      t.busy = false;
    }
  }

  /**
   * A new transaction for the partition. After one of ours was handed to its commit,
   * the new one takes batches at once and begins (lock, stored position) once that
   * commit is done; else it begins now, since the stored position decides what is fresh.
   * Null when the stored position is not where the predecessor ended (another owner moved it).
   */
  private async open(partition: number): Promise<OpenTxn | null> {
    const from = this.handedOver.get(partition) ?? null;
    if (from === null) await this.evictIfFull(partition);
    const now = Date.now();
    const t: OpenTxn = {
      partition, ref: { dataset: this.deps.dataset, source: this.deps.source, partition }, client: null, openedAt: now,
      // Busy while it begins (the lock may be held for long): the idle commit must not take it before its first batch.
      accepted: from ?? { major: -1n, minor: 0n }, last: from ?? { major: -1n, minor: 0n }, lastIdentity: null, first: null, touchedAt: now, idleLimit: this.o.idleMs, ageLimit: this.o.maxAgeMs, busy: from === null,
      generation: this.generations.get(partition) ?? 0,
      stage: null, dbStage: null, copy: null, seq: 0, staged: 0, deletes: false,
      records: 0, fresh: 0, dead: 0, deadByStage: {}, maxSourceTs: null, headSeenAt: null, lagRecords: null,
    };
    this.current.set(partition, t);
    this.uncommitted.set(partition, [...(this.uncommitted.get(partition) ?? []), t]);
    const begun = this.inOrder(partition, () => this.begin(t, from));
    // Handed to its commit while it began (its partition revoked): its batch must come again, from the stored position.
    if (from === null) { await begun; return this.void(t) || this.current.get(partition) !== t ? null : t; }
    begun.catch((e) => this.fatal(partition, e));
    return t;
  }

  /** Begins the transaction: lock, stored position, the replay check, session settings. */
  private async begin(t: OpenTxn, expected: Position | null): Promise<void> {
    if (this.void(t)) return;
    const client = await this.o.pool.connect();
    try {
      await client.query('BEGIN');
      // The merge sorts a whole transaction's changes: no JIT compile for it, and no spill at the default work_mem.
      // The role's timeouts (ms, 0: none) in the same round trip: the open COPY is one statement for the whole
      // transaction and a session idles in it between batches, so either one ended every transaction that
      // collected longer (the sink failed again at each restart); it commits within half of them instead.
      const limits = await client.query<{ st: number; iit: number }>(`SELECT set_config('jit', 'off', true),
        set_config('work_mem', CASE WHEN pg_size_bytes(current_setting('work_mem')) < 64 * 1024 * 1024 THEN '64MB' ELSE current_setting('work_mem') END, true),
        (SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout') AS st,
        (SELECT setting::int FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout') AS iit`);
      this.bound(t, limits.rows[0]?.st ?? 0, limits.rows[0]?.iit ?? 0);
      const stored = await lockAndReadPosition(client, t.ref);
      const mine = this.deps.committed.get(t.partition);
      if (mine && comparePositions(stored, mine) < 0) {
        this.deps.committed.delete(t.partition);
        throw new DualrunError('DUALRUN_STREAM_FAILED', `the stored position of ${this.deps.dataset} partition ${t.partition} moved back (a replay ran): restarting from it`, { details: { dataset: this.deps.dataset, restart: true } });
      }
      t.client = client;
      if (this.void(t)) { await this.rollback(t, null); return; }
      if (expected === null) { t.accepted = stored; t.last = stored; return; }
      // Batches taken before the lock assumed the stored position is where our last commit left it.
      if (comparePositions(stored, expected) !== 0) {
        this.discard(t.partition);
        // Moved on (another owner applied past us): what it applied is not missing. Waiting for a batch at or before
        // our first dropped record refused the redelivery from the stored position for good; the record after the
        // stored one is where it resumes (Kafka offsets: the collecting sink serves Kafka only).
        const next = { major: stored.major + 1n, minor: 0n };
        const from = this.rewind.get(t.partition);
        if (comparePositions(stored, expected) > 0 && from && comparePositions(from, next) < 0) this.rewind.set(t.partition, next);
        await this.rollback(t, null);
      }
    } catch (e) {
      t.client = null;
      this.discard(t.partition);
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(e instanceof DualrunError ? undefined : (e as Error));
      throw e;
    }
  }

  /**
   * Decodes fresh records into COPY text (and their dead letters) and queues their COPY
   * in the partition's order; false when a data error rolled the transaction back.
   * Records go through the pipeline a chunk at a time, so what a record costs in objects dies young.
   */
  private async collect(t: OpenTxn, fresh: SourceBatch['records']): Promise<boolean> {
    const letters: DeadLetter[] = [];
    const segments: Segment[] = [];
    let maxSourceTs: Date | null = null;
    const through = fresh[fresh.length - 1].position;
    const throughIdentity = recordIdentity(fresh[fresh.length - 1]);
    try {
      for (let i = 0; i < fresh.length; i += PIPELINE_CHUNK) {
        const result = await runPipeline(fresh.slice(i, i + PIPELINE_CHUNK), { ...this.deps, loadState: async () => new Map() });
        const setAside = new Map<SourceBatch['records'][number], DeadLetter>();
        refuseValues(this.deps, result.changes, setAside, false);
        const changes = setAside.size === 0 ? result.changes : result.changes.filter((ch) => !setAside.has(ch.record));
        letters.push(...result.deadLetters, ...setAside.values());
        if (result.maxSourceTs && (!maxSourceTs || result.maxSourceTs > maxSourceTs)) maxSourceTs = result.maxSourceTs;
        // Rows that leave out other columns go to the stage of their column set, in order (a stage writes every column it has).
        for (const run of this.deps.merge.runs(changes)) {
          if (run.length === 0) continue;
          const ups = run.filter((ch) => ch.kind === 'upsert');
          const stage = (ups.length === 0 ? t.stage : null) ?? this.deps.merge.collecting(ups.length > 0 ? ups : run)!;
          if (t.stage?.signature !== stage.signature || segments.length === 0) segments.push({ stage, text: '', rows: 0, deletes: false });
          t.stage = stage;
          const seg = segments[segments.length - 1];
          seg.text += stage.data(run, t.seq);
          t.seq += run.length;
          seg.rows += run.length;
          seg.deletes ||= run.length > ups.length;
        }
      }
    } catch (e) {
      await this.inOrder(t.partition, () => this.failed(t, e, through));
      return false;
    }
    // Handed to its commit while the pipeline ran (an async transform; its partition revoked): the COPY
    // would queue behind the commit and do nothing, so the batch must come again, from the stored position.
    if (this.current.get(t.partition) !== t) return false;
    t.first ??= fresh[0].position;
    // What the queued COPY keeps: text and counts, never the records (they hold their fetch's buffers).
    const bytes = segments.reduce((n, s) => n + s.text.length, 0);
    const count = fresh.length;
    this.queuedText.set(t.partition, (this.queuedText.get(t.partition) ?? 0) + bytes);
    t.accepted = through;
    // The COPY follows in the partition's order while node goes on with the fetch; a refusal there asks for the partition again.
    this.inBackground(t.partition, async () => {
      this.queuedText.set(t.partition, (this.queuedText.get(t.partition) ?? 0) - bytes);
      if (this.void(t) || !t.client) return;
      try {
        for (const seg of segments) await this.send(t, seg);
        if (letters.length > 0) { await this.endCopy(t); await writeDeadLetters(t.client, t.ref, letters); }
      } catch (e) {
        await this.failed(t, e, through);
        return;
      }
      t.last = through;
      t.lastIdentity = throughIdentity;
      t.fresh += count;
      t.dead += letters.length;
      for (const d of letters) t.deadByStage[d.stage] = (t.deadByStage[d.stage] ?? 0) + 1;
      if (maxSourceTs && (!t.maxSourceTs || maxSourceTs > t.maxSourceTs)) t.maxSourceTs = maxSourceTs;
    });
    return true;
  }

  /** COPYs a segment; changes of another column set first merge what the current stage holds, then empty the new one. */
  private async send(t: OpenTxn, seg: Segment): Promise<void> {
    if (seg.rows === 0) return;
    if (t.dbStage?.signature !== seg.stage.signature) {
      await this.merge(t);
      await t.client!.query(seg.stage.prepare);
      t.dbStage = seg.stage;
    }
    t.copy ??= OpenCopy.start(t.client!, seg.stage.copy);
    await t.copy.write(seg.text);
    t.staged += seg.rows;
    t.deletes ||= seg.deletes;
  }

  /** Ends the open COPY (its refusal, if any, is thrown here), so the session takes other statements. */
  private async endCopy(t: OpenTxn): Promise<void> {
    const copy = t.copy;
    t.copy = null;
    await copy?.end();
  }

  /** Merges what the stage holds: the newest change per key, upserts and deletes. */
  private async merge(t: OpenTxn): Promise<void> {
    await this.endCopy(t);
    if (!t.dbStage || t.staged === 0) return;
    const c = t.client!;
    const stage = t.dbStage;
    const tombstones = t.deletes
      || (await c.query('SELECT 1 FROM dualrun.stream_tombstones WHERE dataset = $1 LIMIT 1', [this.deps.dataset])).rowCount! > 0;
    await c.query(t.deletes ? stage.upsertAndDelete : tombstones ? stage.upsert : stage.lean, [this.deps.dataset]);
    t.staged = 0;
    t.deletes = false;
  }

  /** Merges, moves the position and commits; false when a data error rolled it back instead. */
  private async commit(t: OpenTxn): Promise<boolean> {
    const started = performance.now();
    const c = t.client!;
    try {
      await this.merge(t);
      if (t.fresh > 0) {
        await advancePosition(c, t.ref, { to: t.last, eventTime: t.headSeenAt ?? t.maxSourceTs, applied: t.fresh - t.dead, dead: t.dead, identity: t.lastIdentity });
      }
      await c.query('COMMIT');
    } catch (e) {
      return this.failed(t, e, t.accepted);
    }
    t.client = null;
    c.release();
    this.uncommitted.set(t.partition, (this.uncommitted.get(t.partition) ?? []).filter((x) => x !== t));
    if (t.fresh > 0) this.deps.committed.set(t.partition, t.last);
    const outcome: BatchOutcome = { fresh: t.fresh, applied: t.fresh - t.dead, dead: t.dead, maxSourceTs: t.maxSourceTs, deadByStage: t.deadByStage };
    this.o.onCommitted({ partition: t.partition, records: t.records, outcome, lagRecords: t.lagRecords, headSeenAt: t.headSeenAt, seconds: (performance.now() - started) / 1000 });
    return true;
  }

  /**
   * A data error: roll back, drop what the partition queued after it, and apply it
   * carefully through `through` (where the failed transaction ended); anything else is thrown.
   */
  private async failed(t: OpenTxn, e: unknown, through: Position): Promise<false> {
    this.discard(t.partition);
    await this.rollback(t, isDataError(e) ? null : e);
    if (!isDataError(e)) throw e;
    this.careful.set(t.partition, through);
    return false;
  }

  /**
   * Nothing the partition queued may apply any more (a rollback, or the stored position
   * moved): its transactions are void, and at once, before another batch is taken, the
   * partition is asked for again from the stored position.
   */
  private discard(partition: number): void {
    const from = (this.uncommitted.get(partition) ?? []).find((x) => x.first !== null)?.first ?? null;
    this.uncommitted.delete(partition);
    this.generations.set(partition, (this.generations.get(partition) ?? 0) + 1);
    this.current.delete(partition);
    this.handedOver.delete(partition);
    // Two drops before a redelivery: refuse until before the earlier of their first records.
    const before = this.rewind.get(partition) ?? null;
    this.rewind.set(partition, before === null ? from : from === null || comparePositions(before, from) <= 0 ? before : from);
    this.contexts.get(partition)?.redeliver();
  }

  private void(t: OpenTxn): boolean {
    return t.generation !== (this.generations.get(t.partition) ?? 0);
  }

  private async rollback(t: OpenTxn, broken: unknown): Promise<void> {
    if (this.current.get(t.partition) === t) this.current.delete(t.partition);
    const c = t.client;
    if (!c) return;
    t.client = null;
    await t.copy?.abort();
    t.copy = null;
    let err = broken as Error | undefined;
    await c.query('ROLLBACK').catch((rb: Error) => { err ??= rb; });
    c.release(err ?? undefined);
  }

  /** Hands the transaction to its commit, queued after its COPYs; the partition's next batch opens the next one. */
  private handOver(t: OpenTxn): Promise<void> {
    if (this.current.get(t.partition) === t) this.current.delete(t.partition);
    this.handedOver.set(t.partition, t.accepted);
    return this.inBackground(t.partition, () => this.commitAndTell(t));
  }

  /**
   * Commits and tells the transport: acknowledge upstream, or, when a data error rolled
   * the transaction back, deliver the partition again (its next batch, if one is already
   * on its way, is refused too: nothing after the rolled-back records may apply first).
   */
  private async commitAndTell(t: OpenTxn): Promise<void> {
    if (this.void(t) || !t.client) return;
    if (await this.commit(t) && t.fresh > 0) this.contexts.get(t.partition)?.acknowledge(t.last);
  }

  /** Queues work after everything of the partition; a failure stops the sink and the transport. */
  private inBackground(partition: number, fn: () => Promise<void>): Promise<void> {
    return this.inOrder(partition, fn).catch((e) => this.fatal(partition, e));
  }

  /** Not a data error: the sink stops, and so does the transport. */
  private fatal(partition: number, e: unknown): void {
    this.failure ??= e;
    this.contexts.get(partition)?.fail(e);
  }

  /**
   * Background: transactions that got no batch for their idle limit commit (their partition may be gone or
   * stalled). Age is checked by each batch (handleNow), which waits for the commit in a backlog: committed from
   * here, the next batch did not wait and kafkajs fetched ahead of Postgres (5M events: 165 MB instead of ~130).
   * A transaction that gets no batch is caught here within its idle limit, which is below its age limit.
   */
  private commitIdle(): void {
    const now = Date.now();
    for (const t of this.current.values()) {
      if (!t.busy && now - t.touchedAt >= t.idleLimit) this.handOver(t);
    }
  }

  /** At most maxOpen transactions: the least recently used idle one commits first. */
  private async evictIfFull(partition: number): Promise<void> {
    if (this.current.size < this.o.maxOpen) return;
    const idle = [...this.current.values()].filter((t) => !t.busy && t.partition !== partition).sort((a, b) => a.touchedAt - b.touchedAt)[0];
    if (idle) await this.handOver(idle);
  }

  /** Runs fn after everything of the partition's database work. */
  private inOrder<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    return serially(this.chains, partition, fn);
  }
}

/** Runs fn after everything queued on the partition's chain. */
function serially<T>(chains: Map<number, Promise<unknown>>, partition: number, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(partition) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  chains.set(partition, tail);
  void tail.then(() => { if (chains.get(partition) === tail) chains.delete(partition); });
  return next;
}
