/**
 * The exactly-once sink: one Postgres transaction per source batch holds the
 * output rows, tombstones, dead letters, keyed state, the new position and the
 * watermark. Records at or below the stored position are skipped, so whatever a
 * transport redelivers after a crash or rebalance has no second effect.
 *
 * Poison at the apply stage: the outcome of a batch is defined as the outcome of
 * the same batch without its bad records. A record is bad when one of its values
 * is not data for its column (value-forms.ts), or when Postgres rejects its rows
 * with a data error (SQLSTATE class 22 or 23) — a value of the wrong type, one a
 * type modifier would alter, a constraint. When the one-statement merge fails, the
 * bad records are found by bisection (each try under a savepoint, rolled back), set
 * aside as `apply` dead letters with the database's reason, and the good records
 * are merged again as one batch: every earlier and later change of the same key
 * still applies in source order, and the counts say exactly what happened.
 */
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { inTransaction, type Pool, type PoolClient } from '../src/core/db/connect.ts';
import { databaseErrorFields } from '../src/core/errors.ts';
import { writeDeadLetters } from './dead-letters.ts';
import { loadKeyedState, saveKeyedState } from './keyed-state.ts';
import type { MergeRow, MergeStatements } from './output-merge.ts';
import { advancePosition, lockAndReadPosition, type PartitionRef } from './positions.ts';
import { recordIdentity } from './record-identity.ts';
import { keyText, newestPerKey, runPipeline, type DeadLetter, type KeyedChange, type PipelineDeps } from './record-pipeline.ts';
import { DualrunError } from '../src/core/errors.ts';
import { comparePositions, type Position, type SourceBatch, type SourceRecord } from './transport.ts';
import { refuseInputWords } from './value-forms.ts';
import { refusedColumn } from './refused-column.ts';

export interface SinkDeps extends Omit<PipelineDeps, 'loadState'> {
  readonly db: Pool;
  readonly source: string;
  readonly merge: MergeStatements;
  /** The last position this process committed per partition (to notice a replay reset under it). */
  readonly committed: Map<number, Position>;
  /** Merges of at least this many changes go by COPY (default COPY_MIN_ROWS). */
  readonly copyMinRows?: number;
}

/** Measured (docs/streaming.md, "Throughput"): below this, unnest arrays are as fast and need fewer round trips. */
export const COPY_MIN_ROWS = 1000;

export interface BatchOutcome {
  /** Records newer than the stored position (the rest were redeliveries). */
  readonly fresh: number;
  readonly applied: number;
  readonly dead: number;
  readonly maxSourceTs: Date | null;
  /** Dead letters by pipeline stage (for metrics). */
  readonly deadByStage?: Readonly<Record<string, number>>;
  /** Milliseconds spent per phase (for debug logs). */
  readonly phases?: Record<string, number>;
}

/** What applying some records did, inside the caller's transaction. */
export interface ApplyResult {
  /** Records whose effect is in the output (no-ops such as Debezium tombstones included). */
  readonly applied: number;
  /** One per record that was not applied, at whichever stage it failed. */
  readonly deadLetters: DeadLetter[];
  readonly maxSourceTs: Date | null;
  readonly phases: Record<string, number>;
}

/** Applies one source batch exactly once: position fence, records, dead letters, position, in one transaction. */
export async function applyBatch(deps: SinkDeps, batch: SourceBatch): Promise<BatchOutcome> {
  const ref: PartitionRef = { dataset: deps.dataset, source: deps.source, partition: batch.partition };
  let tCommit = 0;
  const done = await inTransaction(deps.db, async (c) => {
    const stored = await lockAndReadPosition(c, ref);
    const mine = deps.committed.get(batch.partition);
    if (mine && comparePositions(stored, mine) < 0) {
      deps.committed.delete(batch.partition);
      throw new DualrunError('DUALRUN_STREAM_FAILED', `the stored position of ${deps.dataset} partition ${batch.partition} moved back (a replay ran): restarting from it`, { details: { dataset: deps.dataset, restart: true } });
    }
    const fresh = batch.records.filter((r) => comparePositions(r.position, stored) > 0);
    if (fresh.length === 0) return null;
    const t0 = performance.now();
    const result = await applyRecords(c, deps, fresh);
    await writeDeadLetters(c, ref, result.deadLetters);
    const to = fresh[fresh.length - 1].position;
    await advancePosition(c, ref, { to, eventTime: batch.headSeenAt ?? result.maxSourceTs, applied: result.applied, dead: result.deadLetters.length, identity: recordIdentity(fresh[fresh.length - 1]) });
    tCommit = performance.now();
    const phases = { ...result.phases, bookkeeping: Math.round(tCommit - t0 - result.phases.pipeline - result.phases.merge) };
    const deadByStage: Record<string, number> = {};
    for (const d of result.deadLetters) deadByStage[d.stage] = (deadByStage[d.stage] ?? 0) + 1;
    return { to, outcome: { fresh: fresh.length, applied: result.applied, dead: result.deadLetters.length, maxSourceTs: result.maxSourceTs, deadByStage, phases } };
  });
  if (!done) return { fresh: 0, applied: 0, dead: 0, maxSourceTs: null };
  // Only a committed batch moves this worker's notion of where the partition stands.
  deps.committed.set(batch.partition, done.to);
  return { ...done.outcome, phases: { ...done.outcome.phases, commit: Math.round(performance.now() - tCommit) } };
}

/**
 * Decodes, validates, transforms and merges `records` (in source order) into the
 * output inside `c`'s transaction, saves keyed state, and returns the dead letters
 * (not yet written). No position is read or moved: callers that re-apply records
 * outside the stream's order (a dead-letter retry) fence them themselves.
 */
export async function applyRecords(c: PoolClient, deps: SinkDeps, records: readonly SourceRecord[]): Promise<ApplyResult> {
  const stateful = deps.transform.stateKey !== null;
  const setAside = new Map<SourceRecord, DeadLetter>();
  const phases = { pipeline: 0, merge: 0 };
  const pipeline = async () => {
    const t = performance.now();
    const r = await runPipeline(records.filter((rec) => !setAside.has(rec)), { ...deps, loadState: (keys) => loadKeyedState(c, deps.dataset, keys) });
    phases.pipeline += performance.now() - t;
    return r;
  };
  let result = await pipeline();
  const tombstones = result.changes.some((ch) => ch.kind === 'delete')
    || (await c.query('SELECT 1 FROM dualrun.stream_tombstones WHERE dataset = $1 LIMIT 1', [deps.dataset])).rowCount! > 0;
  // A stateful transform's later rows depend on the state earlier records left, so
  // only the first bad record is set aside per round and the batch transformed again.
  for (;;) {
    const refused = refuseValues(deps, result.changes, setAside, stateful);
    if (refused && stateful) { result = await pipeline(); continue; }
    const t = performance.now();
    const bad = await mergeOrFindBad(c, deps, result.changes.filter((ch) => !setAside.has(ch.record)), tombstones);
    phases.merge += performance.now() - t;
    if (bad.length === 0) break;
    for (const b of stateful ? [earliest(bad, records)] : bad) setAside.set(b.record, b);
    if (stateful) result = await pipeline();
  }
  await saveKeyedState(c, deps.dataset, result.stateWrites);
  const deadLetters = [...result.deadLetters, ...setAside.values()];
  return {
    applied: records.length - deadLetters.length, deadLetters, maxSourceTs: result.maxSourceTs,
    phases: { pipeline: Math.round(phases.pipeline), merge: Math.round(phases.merge) },
  };
}

function earliest(letters: readonly DeadLetter[], records: readonly SourceRecord[]): DeadLetter {
  return letters.reduce((a, b) => (records.indexOf(b.record) < records.indexOf(a.record) ? b : a));
}

/** Sets aside records carrying a value that is not data for its column (`firstOnly`: the first one); true when it found any. */
export function refuseValues(deps: SinkDeps, changes: readonly KeyedChange[], setAside: Map<SourceRecord, DeadLetter>, firstOnly: boolean): boolean {
  let found = false;
  for (const ch of changes) {
    if (found && firstOnly) break;
    if (setAside.has(ch.record)) continue;
    const r = refuseInputWords(ch.row, deps.merge.columns);
    if (!r) continue;
    found = true;
    setAside.set(ch.record, {
      record: ch.record, recordKey: keyText(ch.row, deps.key), stage: 'apply',
      reason: `column ${r.column} (${r.type}): ${JSON.stringify(r.value)} is ${r.reason}`,
      error: { check: 'value-form', column: r.column, type: r.type, value: r.value },
    });
  }
  return found;
}

/**
 * Merges `changes` as one batch. On a data error it returns the records that fail
 * on their own (nothing of the batch stays written); the caller merges the rest
 * again. If no record fails on its own (only a combination does, e.g. two keys
 * claiming one value of another unique column), records are applied one by one in
 * source order and those that fail then are returned, with the rest kept written.
 */
async function mergeOrFindBad(c: PoolClient, deps: SinkDeps, changes: KeyedChange[], tombstones: boolean): Promise<DeadLetter[]> {
  if (changes.length === 0) return [];
  const whole = await tryMerge(c, deps, changes, tombstones, true);
  if (!whole) return [];
  const groups = byRecord(changes);
  const bad = await bisect(c, deps, groups, tombstones, whole);
  if (bad.length > 0) return bad;
  const dead: DeadLetter[] = [];
  await c.query('SAVEPOINT dr_sequential');
  for (const g of groups) {
    const err = await tryMerge(c, deps, g, tombstones, true);
    if (err) dead.push(applyDeadLetter(deps, g[0], err));
  }
  // A stateful batch is transformed again without the first of them: nothing of this pass may stay.
  await c.query(dead.length > 0 && deps.transform.stateKey !== null ? 'ROLLBACK TO SAVEPOINT dr_sequential' : 'RELEASE SAVEPOINT dr_sequential');
  return dead;
}

/** The records (groups of their changes) that fail alone; `failure` is the known error of the whole. */
async function bisect(c: PoolClient, deps: SinkDeps, groups: KeyedChange[][], tombstones: boolean, failure: unknown): Promise<DeadLetter[]> {
  if (groups.length === 1) return [await namingColumn(c, deps, groups[0], applyDeadLetter(deps, groups[0][0], failure), failure)];
  const mid = Math.ceil(groups.length / 2);
  const out: DeadLetter[] = [];
  for (const half of [groups.slice(0, mid), groups.slice(mid)]) {
    const err = await tryMerge(c, deps, half.flat(), tombstones, false);
    if (err) out.push(...await bisect(c, deps, half, tombstones, err));
  }
  return out;
}

/** Runs the merge under a savepoint; returns the data error (rolled back), or null. `keep`: keep a success. */
async function tryMerge(c: PoolClient, deps: SinkDeps, changes: readonly KeyedChange[], tombstones: boolean, keep: boolean): Promise<unknown> {
  await c.query('SAVEPOINT dr_merge');
  try {
    await runMerge(c, deps, changes, tombstones);
  } catch (e) {
    if (!isDataError(e)) throw e;
    await c.query('ROLLBACK TO SAVEPOINT dr_merge');
    return e;
  }
  await c.query(keep ? 'RELEASE SAVEPOINT dr_merge' : 'ROLLBACK TO SAVEPOINT dr_merge');
  return null;
}

/**
 * Every change is bound (so every value is checked); only the newest per key is
 * written. At least `copyMinRows` upserts travel by COPY into the session's staging
 * table (output-merge.ts), fewer as unnest arrays (fewer round trips), deletes always
 * as arrays; both paths run the same merge, so they accept and refuse alike.
 */
async function runMerge(c: PoolClient, deps: SinkDeps, changes: readonly KeyedChange[], tombstones: boolean): Promise<void> {
  // Rows that leave out other columns merge on their own, in order, as if the batch were cut there.
  for (const run of deps.merge.runs(changes)) await mergeRun(c, deps, run, tombstones);
}

async function mergeRun(c: PoolClient, deps: SinkDeps, changes: readonly KeyedChange[], tombstones: boolean): Promise<void> {
  const newest = new Set(newestPerKey(changes, deps.key, deps.merge.ties));
  const ups: MergeRow[] = [];
  const dels: MergeRow[] = [];
  for (const ch of changes) (ch.kind === 'upsert' ? ups : dels).push({ row: ch.row, version: ch.version, sourceTs: ch.sourceTs, write: newest.has(ch) });
  const staged = ups.length >= (deps.copyMinRows ?? COPY_MIN_ROWS) ? deps.merge.staged(ups, tombstones) : null;
  if (staged) {
    await c.query(staged.prepare);
    await copyIn(c, staged.copy, staged.data);
    await c.query(staged.upsert, [deps.dataset]);
  } else if (ups.length > 0) {
    const s = deps.merge.upsert(ups, tombstones);
    await c.query(s.text, [deps.dataset, ...s.values]);
  }
  if (dels.length > 0) { const s = deps.merge.delete(dels); await c.query(s.text, [deps.dataset, ...s.values]); }
}

/** `COPY … FROM STDIN` of one text; rejects with the database's error (its SQLSTATE kept). */
export async function copyIn(c: PoolClient, sql: string, data: string): Promise<void> {
  const stream = c.query(copyFrom(sql));
  stream.end(data);
  await finished(stream);
}

function byRecord(changes: readonly KeyedChange[]): KeyedChange[][] {
  const groups = new Map<SourceRecord, KeyedChange[]>();
  for (const ch of changes) {
    const g = groups.get(ch.record);
    if (g) g.push(ch); else groups.set(ch.record, [ch]);
  }
  return [...groups.values()];
}

/**
 * A record that failed alone on an input error that names no column (class 22, not dualrun's
 * own refusal, which does): the dead letter names the column whose value Postgres refuses.
 */
async function namingColumn(c: PoolClient, deps: SinkDeps, changes: readonly KeyedChange[], letter: DeadLetter, e: unknown): Promise<DeadLetter> {
  const db = databaseErrorFields(e);
  if (!db?.code?.startsWith('22') || db.column || /\bcolumn\b/.test((e as Error).message)) return letter;
  const hit = await refusedColumn(c, deps.merge.columns, changes.map((ch) => ch.row));
  if (!hit) return letter;
  return { ...letter, reason: `column ${hit.column} (${hit.type}): ${letter.reason}`, error: { ...letter.error, column: hit.column, columnType: hit.type } };
}

function applyDeadLetter(deps: SinkDeps, ch: KeyedChange, e: unknown): DeadLetter {
  const db = databaseErrorFields(e);
  return {
    record: ch.record, recordKey: keyText(ch.row, deps.key), stage: 'apply',
    reason: `${(e as Error).message}${db?.code ? ` [SQLSTATE ${db.code}]` : ''}`, error: db ? { ...db } : null,
  };
}

/**
 * Errors caused by the data of the rows (SQLSTATE classes 22 and 23, and 428C9 below), not by the
 * database being unavailable; and 21000, one statement writing a key twice: the batch's dedupe
 * compares the records' text, Postgres its values (`01` and `1`, a uuid's case, `1.0` and
 * `1.00` are one key), so two changes of one key spelled two ways both reach the merge.
 * Found so, the records are merged one by one in source order (no record fails alone),
 * each newest version winning as across batches; the stream used to stop on them.
 */
export function isDataError(e: unknown): boolean {
  const code = databaseErrorFields(e)?.code ?? '';
  return code.startsWith('22') || code.startsWith('23') || code === CARDINALITY_VIOLATION || code === GENERATED_ALWAYS;
}

const CARDINALITY_VIOLATION = '21000';
// A value for a GENERATED ALWAYS identity column ("cannot insert a non-DEFAULT value into column"): it cannot be
// stored as sent, so its record is a dead letter naming the column (the stream used to stop on it).
const GENERATED_ALWAYS = '428C9';

