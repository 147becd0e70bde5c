/**
 * The exactly-once sink for a backlog: one Postgres transaction per partition that
 * collects many batches before it commits. Each batch is decoded, validated and
 * COPYed into the transaction's staging table at once (node keeps nothing of it),
 * its dead letters written; the merge runs once, when the transaction commits, and
 * writes each key once however many versions it collected. So catching up writes
 * a key once per transaction instead of once per batch, and Postgres applies one
 * partition while node decodes the next batches.
 *
 * A transaction commits when its partition reaches the head (so a caught-up stream
 * is as fresh as with one transaction per batch), after `maxRows` changes or
 * `maxAgeMs`, when it got no batch for `idleMs` (a revoked or stalled partition
 * must not hold its lock), when more partitions are open than `maxOpen` (the least
 * recently used commits), and at stop. The fence is the same as applyBatch's: the
 * partition lock is held from the first batch, the stored position read under it,
 * and records at or below it (or below what this transaction already holds) skipped.
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
import { applyBatch, copyIn, isDataError, refuseValues, type BatchOutcome, type SinkDeps } from './exactly-once-sink.ts';
import type { CollectingStage } from './output-merge.ts';
import { advancePosition, lockAndReadPosition, type PartitionRef } from './positions.ts';
import { runPipeline, type DeadLetter } from './record-pipeline.ts';
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
  readonly client: PoolClient;
  readonly openedAt: number;
  /** The last position this transaction holds (the stored one, until a record is staged). */
  last: Position;
  touchedAt: number;
  busy: boolean;
  stage: CollectingStage | null;
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
  private readonly open = new Map<number, OpenTxn>();
  private readonly chains = new Map<number, Promise<unknown>>();
  /** Partitions applied one batch per transaction through this position (after a data error). */
  private readonly careful = new Map<number, Position>();
  /** Partitions whose rolled-back transaction must be delivered again before anything else. */
  private readonly rewind = new Set<number>();
  /** Per partition, how to reach the transport from a commit that runs after its batch was handled. */
  private readonly contexts = new Map<number, BatchContext>();
  private failure: unknown = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: SinkDeps, private readonly o: CollectingOptions) {
    this.timer = setInterval(() => this.commitIdle(), Math.max(50, Math.floor(o.idleMs / 2)));
    this.timer.unref();
  }

  /** Applies a batch; `pending` while its transaction stays open, `rewind` when it must be delivered again. */
  handle(batch: SourceBatch, ctx?: BatchContext): Promise<BatchAck> {
    if (ctx) this.contexts.set(batch.partition, ctx);
    return this.exclusive(batch.partition, () => this.handleNow(batch));
  }

  /** Partitions moved to another worker: their open transactions commit now (the new owner waits on their locks). */
  release(partitions: readonly number[]): void {
    for (const p of partitions) {
      const t = this.open.get(p);
      if (t) this.inBackground(p, () => this.commitAndTell(t));
    }
  }

  /** Resolves once the work queued so far (background commits included) is done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Commits (or, after a failure, rolls back) every open transaction and stops the timer. */
  async close(commit: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.settled();
    const all = [...this.open.values()].map((t) => this.exclusive(t.partition, async () => {
      if (this.open.get(t.partition) !== t) return;
      if (commit && !this.failure) await this.commitAndTell(t); else await this.rollback(t, null);
    }));
    const results = await Promise.allSettled(all);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.failure) throw this.failure;
    if (failed) throw failed.reason;
  }

  private async handleNow(batch: SourceBatch): Promise<BatchAck> {
    if (this.failure) throw this.failure;
    const p = batch.partition;
    if (this.rewind.delete(p)) return { pending: false, rewind: true };
    const last = batch.records[batch.records.length - 1]?.position;
    const through = this.careful.get(p);
    if (through && last) {
      if (comparePositions(last, through) >= 0) this.careful.delete(p);
      await this.commitIfOpen(p);
      this.o.onCommitted(await applyOneBatch(this.deps, batch));
      return { pending: false };
    }
    const t = this.open.get(p) ?? (await this.begin(p));
    t.busy = true;
    try {
      t.records += batch.records.length;
      t.lagRecords = batch.lagRecords;
      t.headSeenAt = batch.headSeenAt;
      const fresh = batch.records.filter((r) => comparePositions(r.position, t.last) > 0);
      if (fresh.length > 0 && !(await this.collect(t, fresh))) return { pending: false, rewind: true };
      t.touchedAt = Date.now();
      const due = batch.headSeenAt !== null || t.staged >= this.o.maxRows || Date.now() - t.openedAt >= this.o.maxAgeMs;
      // The commit runs after this batch in the partition's order, while node goes on with other partitions.
      if (due) this.inBackground(p, () => this.commitAndTell(t));
      return { pending: true };
    } finally {
      t.busy = false;
    }
  }

  /** Opens the partition's transaction: lock, stored position, the replay check, session settings. */
  private async begin(partition: number): Promise<OpenTxn> {
    await this.evictIfFull(partition);
    const client = await this.o.pool.connect();
    const ref: PartitionRef = { dataset: this.deps.dataset, source: this.deps.source, partition };
    try {
      await client.query('BEGIN');
      // The merge sorts a whole transaction's changes: no JIT compile for it, and no spill at the default work_mem.
      await client.query(`SELECT set_config('jit', 'off', true),
        set_config('work_mem', CASE WHEN pg_size_bytes(current_setting('work_mem')) < 64 * 1024 * 1024 THEN '64MB' ELSE current_setting('work_mem') END, true)`);
      const stored = await lockAndReadPosition(client, ref);
      const mine = this.deps.committed.get(partition);
      if (mine && comparePositions(stored, mine) < 0) {
        this.deps.committed.delete(partition);
        throw new DualrunError('DUALRUN_STREAM_FAILED', `the stored position of ${this.deps.dataset} partition ${partition} moved back (a replay ran): restarting from it`, { details: { dataset: this.deps.dataset, restart: true } });
      }
      const now = Date.now();
      const t: OpenTxn = {
        partition, ref, client, openedAt: now, last: stored, touchedAt: now, busy: false, stage: null, seq: 0, staged: 0, deletes: false,
        records: 0, fresh: 0, dead: 0, deadByStage: {}, maxSourceTs: null, headSeenAt: null, lagRecords: null,
      };
      this.open.set(partition, t);
      return t;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(e instanceof DualrunError ? undefined : (e as Error));
      throw e;
    }
  }

  /**
   * Stages fresh records (and writes their dead letters); false when a data error rolled
   * the transaction back. Records go through the pipeline a chunk at a time, so what a
   * record costs in objects dies young; only COPY text is kept until the batch is sent.
   */
  private async collect(t: OpenTxn, fresh: SourceBatch['records']): Promise<boolean> {
    const letters: DeadLetter[] = [];
    const pending = { text: '', rows: 0, deletes: false };
    let maxSourceTs: Date | null = null;
    try {
      for (let i = 0; i < fresh.length; i += PIPELINE_CHUNK) {
        const result = await runPipeline(fresh.slice(i, i + PIPELINE_CHUNK), { ...this.deps, loadState: async () => new Map() });
        const setAside = new Map<SourceBatch['records'][number], DeadLetter>();
        refuseValues(this.deps, result.changes, setAside, false);
        const changes = setAside.size === 0 ? result.changes : result.changes.filter((ch) => !setAside.has(ch.record));
        letters.push(...result.deadLetters, ...setAside.values());
        if (result.maxSourceTs && (!maxSourceTs || result.maxSourceTs > maxSourceTs)) maxSourceTs = result.maxSourceTs;
        if (changes.length === 0) continue;
        const ups = changes.filter((ch) => ch.kind === 'upsert');
        const stage = (ups.length === 0 ? t.stage : null) ?? this.deps.merge.collecting(ups.length > 0 ? ups : changes)!;
        if (t.stage?.signature !== stage.signature) await this.switchStage(t, stage, pending);
        pending.text += stage.data(changes, t.seq);
        t.seq += changes.length;
        pending.rows += changes.length;
        pending.deletes ||= changes.length > ups.length;
      }
    } catch (e) {
      return this.failed(t, e, fresh[fresh.length - 1].position);
    }
    // The COPY follows in the partition's order while node goes on with the fetch (small
    // fetches, so little waits in memory); a refusal there asks for the partition again.
    const through = fresh[fresh.length - 1].position;
    this.inBackground(t.partition, async () => {
      if (this.open.get(t.partition) !== t) return;
      try {
        await this.send(t, pending);
        await writeDeadLetters(t.client, t.ref, letters);
      } catch (e) {
        await this.failed(t, e, through);
        this.askAgain(t.partition);
        return;
      }
      t.last = through;
      t.fresh += fresh.length;
      t.dead += letters.length;
      for (const d of letters) t.deadByStage[d.stage] = (t.deadByStage[d.stage] ?? 0) + 1;
      if (maxSourceTs && (!t.maxSourceTs || maxSourceTs > t.maxSourceTs)) t.maxSourceTs = maxSourceTs;
    });
    return true;
  }

  /** Changes of another column set: what the current stage holds is sent and merged, the new stage emptied. */
  private async switchStage(t: OpenTxn, stage: CollectingStage, pending: { text: string; rows: number; deletes: boolean }): Promise<void> {
    await this.send(t, pending);
    await this.merge(t);
    await t.client.query(stage.prepare);
    t.stage = stage;
  }

  /** COPYs the pending text into the current stage. */
  private async send(t: OpenTxn, pending: { text: string; rows: number; deletes: boolean }): Promise<void> {
    if (pending.rows === 0 || !t.stage) return;
    await copyIn(t.client, t.stage.copy, pending.text);
    t.staged += pending.rows;
    t.deletes ||= pending.deletes;
    pending.text = '';
    pending.rows = 0;
    pending.deletes = false;
  }

  /** Merges what the stage holds: the newest change per key, upserts then deletes. */
  private async merge(t: OpenTxn): Promise<void> {
    if (!t.stage || t.staged === 0) return;
    const tombstones = t.deletes
      || (await t.client.query('SELECT 1 FROM dualrun.stream_tombstones WHERE dataset = $1 LIMIT 1', [this.deps.dataset])).rowCount! > 0;
    await t.client.query(tombstones ? t.stage.upsert : t.stage.lean, [this.deps.dataset]);
    if (t.deletes) await t.client.query(t.stage.delete, [this.deps.dataset]);
    t.staged = 0;
    t.deletes = false;
  }

  /** Merges, moves the position and commits; false when a data error rolled it back instead. */
  private async commit(t: OpenTxn): Promise<boolean> {
    const started = performance.now();
    try {
      await this.merge(t);
      if (t.fresh > 0) {
        await advancePosition(t.client, t.ref, { to: t.last, eventTime: t.headSeenAt ?? t.maxSourceTs, applied: t.fresh - t.dead, dead: t.dead });
      }
      await t.client.query('COMMIT');
    } catch (e) {
      return this.failed(t, e, t.last);
    }
    this.open.delete(t.partition);
    t.client.release();
    if (t.fresh > 0) this.deps.committed.set(t.partition, t.last);
    const outcome: BatchOutcome = { fresh: t.fresh, applied: t.fresh - t.dead, dead: t.dead, maxSourceTs: t.maxSourceTs, deadByStage: t.deadByStage };
    this.o.onCommitted({ partition: t.partition, records: t.records, outcome, lagRecords: t.lagRecords, headSeenAt: t.headSeenAt, seconds: (performance.now() - started) / 1000 });
    return true;
  }

  /** A data error: roll back and apply the partition carefully through `through`; anything else is thrown. */
  private async failed(t: OpenTxn, e: unknown, through: Position): Promise<false> {
    await this.rollback(t, isDataError(e) ? null : e);
    if (!isDataError(e)) throw e;
    this.careful.set(t.partition, through);
    return false;
  }

  private async rollback(t: OpenTxn, broken: unknown): Promise<void> {
    this.open.delete(t.partition);
    let err = broken as Error | undefined;
    await t.client.query('ROLLBACK').catch((rb: Error) => { err ??= rb; });
    t.client.release(err ?? undefined);
  }

  private async commitIfOpen(partition: number): Promise<void> {
    const t = this.open.get(partition);
    if (t) await this.commitAndTell(t);
  }

  /**
   * Commits and tells the transport: acknowledge upstream, or, when a data error rolled
   * the transaction back, deliver the partition again (its next batch, if one is already
   * on its way, is refused too: nothing after the rolled-back records may apply first).
   */
  private async commitAndTell(t: OpenTxn): Promise<void> {
    if (this.open.get(t.partition) !== t) return;
    const ctx = this.contexts.get(t.partition);
    if (await this.commit(t)) { if (t.fresh > 0) ctx?.acknowledge(t.last); return; }
    this.askAgain(t.partition);
  }

  /** After a rollback: the partition's next batch is refused and the transport delivers it again from the stored position. */
  private askAgain(partition: number): void {
    this.rewind.add(partition);
    this.contexts.get(partition)?.redeliver();
  }

  /** Queues work after everything of the partition; a failure stops the sink and the transport. */
  private inBackground(partition: number, fn: () => Promise<void>): void {
    void this.exclusive(partition, fn).catch((e) => {
      this.failure ??= e;
      this.contexts.get(partition)?.fail(e);
    });
  }

  /** Background: transactions that got no batch for idleMs commit (their partition may be gone or stalled). */
  private commitIdle(): void {
    const now = Date.now();
    for (const t of this.open.values()) {
      if (t.busy || now - t.touchedAt < this.o.idleMs) continue;
      this.inBackground(t.partition, async () => {
        if (this.open.get(t.partition) !== t || t.busy || Date.now() - t.touchedAt < this.o.idleMs) return;
        await this.commitAndTell(t);
      });
    }
  }

  /** At most maxOpen transactions: the least recently used idle one commits first. */
  private async evictIfFull(partition: number): Promise<void> {
    if (this.open.size < this.o.maxOpen) return;
    const idle = [...this.open.values()].filter((t) => !t.busy && t.partition !== partition).sort((a, b) => a.touchedAt - b.touchedAt)[0];
    if (idle) await this.exclusive(idle.partition, () => this.commitIfOpen(idle.partition));
  }

  /** Runs fn after everything queued for the partition (one transaction's statements never interleave). */
  private exclusive<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(partition) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(partition, tail);
    void tail.then(() => { if (this.chains.get(partition) === tail) this.chains.delete(partition); });
    return next;
  }
}
