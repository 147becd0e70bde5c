/**
 * One window's verdict: settlement, one fingerprint scan per side (in parallel,
 * on one shared snapshot when both sides share a database), then drill-down
 * into the mismatched buckets only, classification, and the stored result.
 */
import { DualrunError, toDualrunError } from '../src/core/errors.ts';
import type { Runtime } from '../src/core/runtime.ts';
import type { Window } from '../src/core/windows.ts';
import { readStage } from '../src/core/stages.ts';
import { descOf, logicalName, type ColumnInfo } from './table-columns.ts';
import type { DatasetContext } from './dataset-context.ts';
import type { WindowResult } from './types.ts';
import { checkSettlement, type Settlement } from './settlement.ts';
import { adoptedBehind } from './adopted-watermark.ts';
import { openSideSession, type SideSession } from './side-session.ts';
import { sessionScanSettings } from './scan-settings.ts';
import { windowBucketing } from './key-ranges.ts';
import { fingerprintSide, mismatchedBuckets, rowsInBuckets } from './window-fingerprint.ts';
import { checkZoneAgreement, windowBounds } from './window-bounds.ts';
import { DiffAccumulator } from './diff-accumulator.ts';
import { classifyPair, numberKind, type NumberKind, type NumberSides } from './classify-difference.ts';
import { drilldownSameDatabase } from './bucket-drilldown-sql.ts';
import { drilldownCrossDatabase } from './bucket-drilldown-node.ts';
import { drilldownByKey, keyedDrilldownApplies } from './keyed-drilldown-sql.ts';
import { duplicatesOutsideBuckets } from './duplicate-keys.ts';
import { tombstoneLookup } from './tombstones.ts';
import { noteDeadLetters } from './dead-letter-notes.ts';
import { storeResult } from './result-store.ts';
import { datasetDefinition } from '../src/core/cutover/dataset-definition.ts';
import { readOutputShape } from '../src/core/cutover/output-shape.ts';
import { databaseNow } from '../src/core/db/database-clock.ts';
import { IN_MEMORY_ROWS, PROBE_ROWS, type DrilldownSpec } from './drilldown-spec.ts';
import { onSide } from './side-error.ts';

export interface WindowOptions { samples: number; assumeSettled: boolean; store: boolean; progress?: (line: string) => void; inMemoryRows?: number }

export async function reconcileWindow(rt: Runtime, ctx: DatasetContext, window: Window | null, opts: WindowOptions): Promise<WindowResult> {
  const began = Date.now(); // durationMs, by this process's clock
  // When the judgment started, by the database's clock (src/core/db/database-clock.ts); this one only if the database is away.
  let startedAt = new Date();
  const base = emptyResult(ctx, window);
  // What this judgment is about: the gate only counts it while the definition stays the same.
  const definition = datasetDefinition(ctx.ds);
  let result: WindowResult;
  try {
    const db = await rt.db();
    startedAt = await databaseNow(db);
    base.stage = await readStage(db, ctx.ds.name);
    const adopted = ctx.ds.stream.adopted
      ? { behind: (h: Date) => adoptedBehind({ ds: ctx.ds, streamPool: ctx.streamPool, kafka: rt.config.kafka, log: rt.log, file: rt.config.path }, h), hasWatermark: ctx.ds.stream.watermark !== null }
      : undefined;
    const settlement = await checkSettlement(db, ctx.streamPool, ctx.ds.name, window, ctx.ds.reconcile.settleMs, adopted, startedAt);
    base.settlement = settlementRecord(settlement, ctx.ds.reconcile.settleMs);
    if (!settlement.settled && !opts.assumeSettled) {
      result = { ...base, verdict: 'pending', pendingReason: settlement.reason ?? undefined };
    } else {
      result = await judge(rt, ctx, window, base, settlement.snapshotAt, opts);
    }
  } catch (e) {
    const err = toDualrunError(e, 'DUALRUN_RECONCILE_FAILED');
    rt.log.error({ err, dataset: ctx.ds.name, window: window?.label ?? null }, 'reconciliation failed');
    result = { ...base, verdict: 'error', error: resultError(err) };
  }
  result.durationMs = Date.now() - began;
  if (opts.store) {
    try {
      result.id = await storeResult(await rt.db(), result, startedAt, definition);
    } catch (e) {
      if (result.verdict === 'error') return result;
      const err = toDualrunError(e, 'DUALRUN_RECONCILE_FAILED');
      result = { ...result, verdict: 'error', error: { code: err.code, message: `storing the result failed: ${err.message}` } };
    }
  }
  return result;
}

async function judge(rt: Runtime, ctx: DatasetContext, window: Window | null, base: WindowResult, snapshotAt: Date | null, opts: WindowOptions): Promise<WindowResult> {
  const label = `${ctx.ds.name} ${window?.label ?? '(whole table)'}`;
  const spec = drilldownSpec(ctx, window, opts.inMemoryRows);
  const [bs, ss] = await openSessions(ctx);
  try {
    // Which tables, with which columns, this verdict is about (the gate checks they are still those: rule 4.6).
    const [batchShape, streamShape] = await Promise.all([readOutputShape(bs.client, ctx.batch.shape.table), readOutputShape(ss.client, ctx.stream.shape.table)]);
    base.shapes = { batch: batchShape, stream: streamShape };
    // Shapes print type and table names as the user's path sees them (the gate reads them so); the rest searches pg_catalog alone.
    await Promise.all([bs.catalogOnly(), ss.catalogOnly()]);
    if (window) {
      const tz = ctx.ds.window?.timezone ?? 'UTC';
      await checkZoneAgreement(bs.client, window, ctx.batch.windowColumn, tz, 'the batch database');
      await checkZoneAgreement(ss.client, window, ctx.stream.windowColumn, tz, 'the stream database');
    }
    opts.progress?.(`${label}: fingerprinting both sides`);
    const t0 = Date.now();
    spec.buckets = await windowBucketing(ctx.buckets, [[bs, ctx.batch, spec.batchBounds], [ss, ctx.stream, spec.streamBounds]]);
    const [bf, sf] = await Promise.all([
      onSide('batch.output', ctx.batch.shape.table, fingerprintSide(bs, ctx.batch, spec.buckets, spec.batchBounds, ctx.batchRowVersions)),
      onSide('stream.output', ctx.stream.shape.table, fingerprintSide(ss, ctx.stream, spec.buckets, spec.streamBounds, ctx.streamRowVersions)),
    ]);
    spec.mismatched = mismatchedBuckets(bf.buckets, sf.buckets);
    spec.candidateRows = rowsInBuckets(spec.mismatched, bf.buckets, sf.buckets);
    // Up to 65k buckets per side: not needed past this point, so not held through the drill-down.
    bf.buckets.clear();
    sf.buckets.clear();
    const t1 = Date.now();
    if (spec.mismatched.length > 0) opts.progress?.(`${label}: ${spec.mismatched.length} of ${spec.buckets.count} buckets differ, drilling down`);
    const acc = new DiffAccumulator({ samples: opts.samples, snapshotAt, keyColumns: ctx.ds.key, tombstones: snapshotAt ? await tombstoneLookup([ctx.streamPool, await rt.db()], ctx.ds.name) : null });
    const keyed = keyedDrilldownApplies(spec, ctx.sameDatabase, bf.fingerprint.rows + sf.fingerprint.rows);
    await inDrilldown(ctx, locateDifferences(ctx, spec, bs, ss, acc, keyed));
    const diff = await acc.finish();
    await noteDeadLetters([ctx.streamPool, await rt.db()], ctx.ds.name, ctx.ds.key, diff.samples, rt.log);
    // Differing counts, or (without tolerances) differing checksums, with no difference
    // located would be a bug; never let it pass as a match.
    const nothingLocated = acc.failingCount === 0 && diff.inFlight === 0;
    const checksumsMustAgree = Object.keys(ctx.ds.reconcile.tolerance).length === 0;
    const unexplained = nothingLocated && (bf.fingerprint.rows !== sf.fingerprint.rows || (checksumsMustAgree && bf.fingerprint.checksum !== sf.fingerprint.checksum));
    // Schema drift: a column readers would lose or see change type at cutover; never a match.
    const drift = ctx.columns.drift.length > 0;
    return {
      ...base,
      verdict: acc.failingCount > 0 || unexplained || drift ? 'mismatch' : 'match',
      batch: bf.fingerprint,
      ...(bf.xminSum !== null ? { batchWriters: { rows: bf.fingerprint.rows, xminSum: bf.xminSum } } : {}),
      stream: sf.fingerprint,
      ...(sf.xminSum !== null ? { streamWriters: { rows: sf.fingerprint.rows, xminSum: sf.xminSum } } : {}),
      diff,
      buckets: { total: spec.buckets.count, mismatched: spec.mismatched.length, mode: spec.buckets.mode },
      strategy: ctx.sameDatabase ? 'same-database' : 'cross-database',
      timings: { fingerprintMs: t1 - t0, drilldownMs: Date.now() - t1 },
    };
  } finally {
    await Promise.all([bs.close(), ss.close()]);
  }
}

/**
 * A database error while reading the differing rows (a SQL_ASCII database's bytes that are not
 * UTF-8 cannot be sent as text, a statement timeout...) names the two outputs being drilled into:
 * the server's words alone name neither. The database's own fields are kept.
 */
async function inDrilldown(ctx: DatasetContext, p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    const err = toDualrunError(e, 'DUALRUN_RECONCILE_FAILED');
    if (err === e) throw e;
    throw new DualrunError(err.code, `drill-down of batch.output ${ctx.batch.shape.table.text} and stream.output ${ctx.stream.shape.table.text}: ${err.message}`, { cause: e });
  }
}

function drilldownSpec(ctx: DatasetContext, window: Window | null, inMemoryRows?: number): DrilldownSpec {
  const tz = ctx.ds.window?.timezone ?? 'UTC';
  return {
    batch: ctx.batch, stream: ctx.stream, buckets: ctx.buckets, mismatched: [], candidateRows: 0,
    limits: { inMemoryRows: inMemoryRows ?? IN_MEMORY_ROWS, probeRows: inMemoryRows === undefined ? PROBE_ROWS : inMemoryRows },
    batchBounds: window && ctx.batch.windowColumn ? windowBounds(window, ctx.batch.windowColumn, tz) : null,
    streamBounds: window && ctx.stream.windowColumn ? windowBounds(window, ctx.stream.windowColumn, tz) : null,
  };
}

/** One session per side; the stream session shares the batch one's snapshot when both sides share a database. */
async function openSessions(ctx: DatasetContext): Promise<[SideSession, SideSession]> {
  const timeZone = ctx.ds.window?.timezone ?? 'UTC';
  const settings = sessionScanSettings(ctx.buckets.count);
  // Only a side whose SQL holds reconcile.expressions searches the user's schemas (after pg_catalog).
  const exprs = Object.values(ctx.ds.reconcile.expressions);
  const [bUser, sUser] = [exprs.some((e) => e.batch !== undefined), exprs.some((e) => e.stream !== undefined)];
  const bs = await openSideSession(ctx.batchPool, { timeZone, settings, userFunctions: bUser });
  try {
    const ss = await openSideSession(ctx.streamPool, { ...(ctx.sameDatabase ? { snapshot: await bs.exportSnapshot() } : {}), timeZone, settings, userFunctions: sUser });
    return [bs, ss];
  } catch (e) {
    await bs.close();
    throw e;
  }
}

/** Every differing key of the mismatched buckets (or, keyed, of the window), then duplicates elsewhere, into the accumulator. */
async function locateDifferences(ctx: DatasetContext, spec: DrilldownSpec, bs: SideSession, ss: SideSession, acc: DiffAccumulator, keyed: boolean): Promise<void> {
  const sources = [
    keyed ? drilldownByKey(bs, spec) : ctx.sameDatabase ? drilldownSameDatabase(bs, spec) : drilldownCrossDatabase(bs, ss, spec),
    duplicatesOutsideBuckets(bs, ss, spec),
  ];
  const numbers = numberSides(ctx.batch.compared, ctx.stream.compared);
  for (const pairs of sources) {
    for await (const pair of pairs) {
      const d = classifyPair(pair, ctx.columns.compared, ctx.ds.reconcile.tolerance, numbers);
      if (d) await acc.add(d);
    }
  }
}

/** The compared columns that are numbers on both sides (a tolerance applies to those only), with how each side holds them. */
function numberSides(batch: readonly ColumnInfo[], stream: readonly ColumnInfo[]): NumberSides {
  const out = new Map<string, readonly [NumberKind, NumberKind]>();
  // A scalar's base type (domains resolved): an array or composite of numbers is not a number.
  const kind = (c: ColumnInfo | undefined) => (c && descOf(c).kind === 'base' ? numberKind(descOf(c).name) : null);
  batch.forEach((c, i) => {
    const [b, s] = [kind(c), kind(stream[i])];
    if (b && s) out.set(logicalName(c), [b, s]);
  });
  return out;
}

/** What the gate needs to know later about how settled the window was when judged (docs/cutover.md, rule 4.3). */
function settlementRecord(s: Settlement, settleMs: number): NonNullable<WindowResult['settlement']> {
  return { proof: s.proof, settleMs, watermark: s.watermark?.toISOString() ?? null, ...(s.settled ? {} : { reason: s.reason ?? undefined }) };
}

/** A failure as `WindowResult.error`: code, message and the database error's fields. */
export function resultError(err: DualrunError): NonNullable<WindowResult['error']> {
  return { code: err.code, message: err.message, ...(err.db ? { db: err.db as Record<string, string> } : {}) };
}

function emptyResult(ctx: DatasetContext, window: Window | null): WindowResult {
  return {
    dataset: ctx.ds.name,
    window: window?.label ?? null,
    verdict: 'pending',
    batch: null,
    stream: null,
    diff: null,
    windowStart: window?.start.toISOString() ?? null,
    windowEnd: window?.end.toISOString() ?? null,
    columns: ctx.columns.compared,
    ...(ctx.columns.names && Object.keys(ctx.columns.names).length > 0 ? { columnNames: ctx.columns.names } : {}),
    schemaDrift: ctx.columns.drift,
    buckets: null,
    strategy: null,
    stage: null,
    durationMs: 0,
    id: null,
  };
}
