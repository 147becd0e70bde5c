/**
 * The evidence gates, as a pure function of reconciliation history (no I/O, so
 * every rule is unit-tested). docs/cutover.md ("Gate rules") states the same
 * rules, numbered as in `notCountedReason` and `evaluateGate`:
 *
 *  - batch → shadow: no evidence. It only starts the streaming path.
 *  - shadow → streaming: `promoteAfter` consecutive clean windows.
 *  - streaming → streaming-only: `retireAfter` consecutive clean windows among the
 *    reconciliations that ran while streaming was served in the current streaming
 *    period (stage = 'streaming', started at or after the stage began).
 *
 * Consecutive: the latest result of each window (a re-run replaces the earlier
 * one; `pending` neither counts nor breaks), windows newest first; a window whose
 * latest result is a mismatch or an error ends the walk (the breaker). A clean
 * window counts only if it is evidence: judged under the current dataset
 * definition and after it began, its stream rows written by the stream code in use
 * now, after every mismatch/error recorded for the dataset, settled when judged and
 * now (batch run succeeded, not partial, judged after window end + settle, not
 * assumed settled while known behind), after its window's latest batch load
 * finished, that load run by the current batch query/transform (for a managed batch: some
 * load at all), both sides hold at least `minRowsPerWindow` rows, and (when re-counted:
 * `rowsNow`) the outputs still hold the rows judged in the same tables with the same columns
 * (and view queries), the batch rows not written again since, the stream rows not written
 * since (stream-rewritten), written by the stream
 * worker (not copied in), and no key was left
 * uncompared as in flight. Windows that do
 * not count are skipped (not breaking) and listed with why; gaps between the windows
 * used are listed too. Clean whole-table runs that saw the same data are one unit.
 * Newest evidence must be within `maxEvidenceAge` (0 = no limit).
 */
import type { Stage } from '../stages.ts';
import { formatDuration } from '../duration.ts';
import { shapeChange, type OutputShape } from './output-shape.ts';
import type { RowsNow } from './judged-rows.ts';
import type { StreamCoverage } from './stream-code.ts';

export interface Verdict {
  /** dualrun.reconciliations.id (bigint, as text); for an error, dualrun.reconcile_errors.id. */
  readonly id: string;
  readonly windowLabel: string | null;
  readonly windowStart: Date | null;
  /** Where the window ends (absent: unknown, or a whole-table run). */
  readonly windowEnd?: Date | null;
  readonly verdict: 'match' | 'mismatch' | 'pending' | 'error';
  /** The dataset's stage when the reconciliation ran. */
  readonly stage: string | null;
  /** When the judgment started (defaults to finishedAt). */
  readonly startedAt?: Date;
  readonly finishedAt: Date;
  readonly batchRows?: number | null;
  readonly streamRows?: number | null;
  /** Differences the reconciler classed as in flight (the stream changed the key after the batch snapshot): not compared (rule 4.7). */
  readonly inFlight?: number | null;
  /** The checksums judged: whole-table runs that saw the same data (same load, same checksums) are one unit (rule 1). */
  readonly batchChecksum?: string | null;
  readonly streamChecksum?: string | null;
  /** The dataset definition fingerprint it judged (null: recorded before dualrun kept definitions). */
  readonly definition?: string | null;
  /** The newest finished batch load of its window, as the gate reads it now (null: none recorded). */
  readonly batchLoad?: {
    readonly runId: string; readonly status: string; readonly finishedAt: Date | null;
    /** The batch query/transform hashes the run executed (null: an adopted load, or recorded before dualrun kept them). */
    readonly definition?: Readonly<Record<string, string>> | null;
  } | null;
  /** The newest batch run of its window, any status, as the gate reads it now (rule 4.3: only `succeeded` leaves the window settled). */
  readonly newestBatchRun?: { readonly runId: string; readonly status: string; readonly startedAt: Date | null } | null;
  /**
   * The batch scheduler left its window open (dualrun.batch_open_windows, docs/batch.md): `waiting`
   * for the external job, `failed`, or `due` (a fire has not recorded how it ended). An adopted window with no run recorded is otherwise not
   * known to be unsettled. Absent/null: not open.
   */
  readonly openWindow?: { readonly state: string; readonly lastFireAt: Date } | null;
  /** How settled the window was when judged (the reconciler's record; null/absent: recorded before dualrun kept it). */
  readonly settlement?: { readonly proof: 'proven' | 'unknown' | 'behind'; readonly settleMs: number; readonly watermark: Date | null; readonly reason: string | null } | null;
  /** A mismatch caused by schema drift (h1: verdict mismatch with `schemaDrift`). */
  readonly schemaDrift?: boolean;
  /** Which transactions wrote the batch rows judged (their count and xmin sum; null/absent: a batch output without row versions, or recorded before dualrun kept them). */
  readonly batchWriters?: { readonly rows: number; readonly xminSum: string } | null;
  /** The same for the stream rows judged (null/absent: a stream output without row versions, or recorded before dualrun kept them). */
  readonly streamWriters?: { readonly rows: number; readonly xminSum: string } | null;
  /** Each output's table object and columns when judged (null/absent: recorded before dualrun kept them). */
  readonly shapes?: { readonly batch: OutputShape | null; readonly stream: OutputShape | null } | null;
  /** Rows each output holds in its window now, and their shapes now (rule 4.6); absent: not re-counted. null side: the table is gone. */
  readonly rowsNow?: RowsNow;
}

export interface GateInput {
  readonly from: Stage;
  readonly to: Stage;
  /** When the current stage began (the retire gate counts only since then). */
  readonly since: Date | null;
  readonly promoteAfter: number;
  readonly retireAfter: number;
  readonly maxEvidenceAgeMs: number;
  /** Default 1; 0 turns the rule off. */
  readonly minRowsPerWindow?: number;
  /** What the stream worker runs (rule 4.1, stream-definition); absent: not checked. */
  readonly streamCode?: StreamCoverage;
  /** The dataset's `reconcile.settle` now (default 0): a window counts only if judged after its end + settle (rule 4.3). */
  readonly settleMs?: number;
  /** Whether the dataset is cut into windows (only changes the wording). */
  readonly windowed: boolean;
  /** dualrun loads the batch output (`batch.query`): a window no recorded run loaded does not count (rule 4.4). Absent: not checked. */
  readonly managedBatch?: boolean;
  /** Latest results per window (or more); errors included as verdict 'error'. */
  readonly verdicts: readonly Verdict[];
  /** The newest mismatch or error recorded for the dataset, any window (null: none). Defaults to the newest among `verdicts`. */
  readonly lastFailure?: Verdict | null;
  /** The current definition; absent: definitions are not checked (unit tests of other rules). */
  readonly definition?: { readonly fingerprint: string; readonly since: Date | null; readonly changed: readonly string[]; readonly parts?: Readonly<Record<string, string>> };
  readonly now: Date;
}

export interface Judged { readonly id: string; readonly window: string | null; readonly verdict: Verdict['verdict']; readonly judgedAt: string }
export type NotCountedRule = 'definition' | 'stream-definition' | 'before-failure' | 'partial-load' | 'batch-run' | 'not-settled' | 'before-batch-load' | 'batch-definition' | 'min-rows' | 'rows-changed' | 'rows-rewritten' | 'stream-rewritten' | 'table-changed' | 'not-streamed' | 'in-flight';
export interface NotCounted extends Judged { readonly rule: NotCountedRule; readonly reason: string }
export interface Breaker extends Judged {
  /** window-order: the latest result of a newer window than the rest; judged-later: recorded after evidence that would count. */
  readonly rule: 'window-order' | 'judged-later';
  readonly schemaDrift: boolean;
}

export interface GateResult {
  readonly from: Stage;
  readonly to: Stage;
  readonly rule: 'none' | 'promoteAfter' | 'retireAfter';
  readonly ok: boolean;
  readonly required: number;
  /** Length of the current streak of counted clean windows (may exceed `required`). */
  readonly clean: number;
  /** Ids of the reconciliations the decision rests on (newest first, at most `required`). */
  readonly evidence: readonly string[];
  /** Those windows, with when they were judged. */
  readonly counted: readonly Judged[];
  /** Clean windows newer than the breaker that did not count, and why (newest first). */
  readonly notCounted: readonly NotCounted[];
  readonly breaker: Breaker | null;
  /**
   * Stretches between the windows used that no result covers (never judged, or only
   * pending): between `older` and `newer`. They do not break a streak (rule 3); they are
   * listed so that "N consecutive" can be read for what it is.
   */
  readonly gaps: readonly { readonly older: string | null; readonly newer: string | null }[];
  readonly newestEvidenceAt: string | null;
  readonly maxEvidenceAgeMs: number;
  readonly minRowsPerWindow: number;
  readonly stale: boolean;
  /** Kept for readers of the first version: the breaker, when it is a mismatch. */
  readonly lastMismatch: { readonly id: string; readonly window: string | null; readonly finishedAt: string } | null;
  /** Human sentences saying what is missing; empty when ok. */
  readonly missing: readonly string[];
}

/** The one-step-forward gate for a transition. */
export function evaluateGate(input: GateInput): GateResult {
  const { from, to } = input;
  const minRows = input.minRowsPerWindow ?? 1;
  const base = { from, to, maxEvidenceAgeMs: input.maxEvidenceAgeMs, minRowsPerWindow: minRows };
  if (from === 'batch' && to === 'shadow') {
    return { ...base, rule: 'none', ok: true, required: 0, clean: 0, evidence: [], counted: [], notCounted: [], breaker: null, gaps: [], newestEvidenceAt: null, stale: false, lastMismatch: null, missing: [] };
  }
  const retire = from === 'streaming' && to === 'streaming-only';
  if (!retire && !(from === 'shadow' && to === 'streaming')) throw new Error(`no gate for ${from} → ${to}`);

  const required = retire ? input.retireAfter : input.promoteAfter;
  const scoped = retire
    // Started in the current streaming period: a run begun before a rollback and re-promotion judged the earlier one.
    ? input.verdicts.filter((v) => v.stage === 'streaming' && (!input.since || (v.startedAt ?? v.finishedAt) >= input.since))
    : input.verdicts;
  const lastFailure = input.lastFailure !== undefined ? input.lastFailure : newestFailure(input.verdicts);
  const walk = walkWindows(scoped, (v) => notCountedReason(v, input, minRows, lastFailure));
  const breaker = walk.breaker ?? (lastFailure && walk.notCounted.some((n) => n.rule === 'before-failure')
    ? { ...judged(lastFailure), rule: 'judged-later' as const, schemaDrift: lastFailure.schemaDrift === true } : null);
  const used = walk.streak.slice(0, required);
  const newest = used.length ? new Date(Math.max(...used.map((v) => v.finishedAt.getTime()))) : null;
  const age = newest ? input.now.getTime() - newest.getTime() : null;
  const stale = used.length > 0 && input.maxEvidenceAgeMs > 0 && age! > input.maxEvidenceAgeMs;

  const missing: string[] = [];
  const unit = input.windowed ? 'windows' : 'runs';
  const where = retire ? ` while streaming was served${input.since ? ` (since ${input.since.toISOString()})` : ''}` : '';
  if (walk.streak.length < required) {
    let why = `${walk.streak.length} of ${required} consecutive clean ${unit}${where}`;
    if (breaker) why += `; ${describeBreaker(breaker)}`;
    else if (scoped.filter((v) => v.verdict !== 'pending').length === 0) why += `; no finished reconciliations${where} yet`;
    if (walk.notCounted.length) why += `; did not count: ${listNotCounted(walk.notCounted)}`;
    missing.push(why);
  }
  if (stale) missing.push(`newest clean reconciliation finished ${newest!.toISOString()}, ${formatAge(age!)} ago (maxEvidenceAge ${formatDuration(input.maxEvidenceAgeMs)})`);

  return {
    ...base,
    rule: retire ? 'retireAfter' : 'promoteAfter',
    ok: missing.length === 0,
    required,
    clean: walk.streak.length,
    evidence: used.map((v) => v.id),
    counted: used.map(judged),
    notCounted: walk.notCounted.slice(0, 50),
    breaker,
    gaps: windowGaps(walk.visited, used),
    newestEvidenceAt: newest?.toISOString() ?? null,
    stale,
    lastMismatch: breaker && breaker.verdict === 'mismatch' ? { id: breaker.id, window: breaker.window, finishedAt: breaker.judgedAt } : null,
    missing,
  };
}

type Reason = { rule: NotCountedRule; reason: string } | null;
type ReasonInput = Pick<GateInput, 'definition'> & { windowed?: boolean; settleMs?: number; streamCode?: StreamCoverage; managedBatch?: boolean };

/** Why a clean result is not evidence (null: it counts). Rule numbers as in docs/cutover.md; the first that fails is given. */
export function notCountedReason(v: Verdict, input: ReasonInput, minRows: number, lastFailure: Verdict | null): Reason {
  return definitionReason(v, input.definition)
    ?? streamCodeReason(v, input.streamCode)
    ?? failureReason(v, lastFailure)
    ?? (v.batchLoad?.status === 'partial'
      ? { rule: 'partial-load', reason: `its batch load (run ${v.batchLoad.runId}) is partial: loaded before the window ended + settle; run \`dualrun batch run\` again once due` }
      : null)
    ?? unsettledReason(v, input.settleMs ?? 0)
    ?? batchLoadReason(v, input.definition?.parts, input.managedBatch === true)
    ?? (minRows > 0 && ((v.batchRows ?? 0) < minRows || (v.streamRows ?? 0) < minRows)
      ? { rule: 'min-rows', reason: `${v.batchRows ?? 0} batch rows, ${v.streamRows ?? 0} stream rows (cutover.minRowsPerWindow ${minRows} on both sides)` }
      : null)
    ?? outputsChangedReason(v, input.windowed !== false, minRows)
    ?? (input.windowed !== false ? rewrittenReason(v) ?? streamRewrittenReason(v) : null)
    ?? notStreamedReason(v)
    ?? inFlightReason(v);
}

/**
 * Rule 4.6, `rows-rewritten`: the batch rows of the window were written again since they were
 * judged (an adopted job's DELETE + INSERT or UPDATE, same row count): the verdict compared
 * other rows. Their writers' xmin sum moved (src/core/cutover/row-versions.ts). Windows only: a
 * whole table's outputs move between runs by design (its count rule is a floor).
 */
function rewrittenReason(v: Verdict): Reason {
  const now = v.rowsNow?.batchXminSum;
  const was = v.batchWriters;
  if (!was || now === undefined || now === was.xminSum) return null;
  return { rule: 'rows-rewritten', reason: `the batch output's rows of the window were written again since it was judged (as many rows, other row versions: a job rewrote or updated them without a batch run dualrun recorded); reconcile it again` };
}

/**
 * Rule 4.6, `stream-rewritten`: the stream rows of the window were written since they were judged
 * (a late or replayed event, `dualrun replay`, a manual INSERT/UPDATE/DELETE): the verdict compared
 * other rows. Count and xmin sum together: a delete alone moves only the count (rows-changed sees
 * it first), a delete plus an insert or an update moves the sum (a newer transaction's xmin).
 * Windows only, as for the batch side; a window not yet settled was never judged `match`.
 */
function streamRewrittenReason(v: Verdict): Reason {
  const now = v.rowsNow;
  const was = v.streamWriters;
  if (!was || now?.streamXminSum === undefined || (now.streamXminSum === was.xminSum && now.stream === was.rows)) return null;
  return { rule: 'stream-rewritten', reason: `the stream output's rows of the window were written since it was judged (other row versions: a late or replayed event, a replay, or a write by hand changed, added or removed rows after the verdict); reconcile it again` };
}

/**
 * Rule 4.6, `not-streamed`: stream rows the sink never wrote (no `_dr_version`: copied from the
 * batch output, loaded by hand, there before the stream) compare the batch with itself, not with
 * what the streaming path produces.
 */
function notStreamedReason(v: Verdict): Reason {
  const n = v.rowsNow?.streamUnwritten;
  if (!n || n <= 0) return null;
  return { rule: 'not-streamed', reason: `${n} of its stream rows were not written by dualrun's stream worker (_dr_version is NULL: copied in, loaded by hand, or there before the stream): the verdict compared them, not the streaming path; replay (dualrun stream --from-beginning --reset-output), then reconcile it again` };
}

/**
 * Rule 4.7: a match with differences in flight compared only the other keys. The keys the
 * stream changed after the batch snapshot were never checked, and they are exactly the
 * stream's update path (a stream that mangles every update matched while the batch ran first).
 */
function inFlightReason(v: Verdict): Reason {
  if (!v.inFlight || v.inFlight <= 0) return null;
  const where = v.windowLabel ? ` --window ${v.windowLabel}` : '';
  return { rule: 'in-flight', reason: `${v.inFlight} key(s) were in flight (changed by the stream after the batch snapshot) and not compared; re-run the batch (dualrun batch run${where}), then reconcile it again` };
}

/** Rule 4.1: judged under the current definition, after it began. */
function definitionReason(v: Verdict, def: GateInput['definition']): Reason {
  if (!def) return null;
  const change = def.changed.length ? ` (${def.changed.join(', ')} changed)` : '';
  const no = (reason: string) => ({ rule: 'definition' as const, reason });
  if (def.since === null) {
    const what = def.changed.length ? `the dataset definition changed${change} since it was last recorded` : 'the dataset definition is not recorded yet';
    return no(`${what}; nothing judged before that counts (the next batch run, reconciliation, stream start or promotion records it)`);
  }
  if ((v.definition ?? null) !== def.fingerprint) return no(`judged under an earlier definition of the dataset${change} (current since ${def.since.toISOString()})`);
  if (v.finishedAt < def.since) return no(`judged before the dataset definition last changed at ${def.since.toISOString()}${change}`);
  return null;
}

/** Rule 4.2: a failure recorded after a clean judgment means that judgment may no longer hold. */
function failureReason(v: Verdict, lastFailure: Verdict | null): Reason {
  if (!lastFailure || v.finishedAt > lastFailure.finishedAt) return null;
  return { rule: 'before-failure', reason: `judged ${v.finishedAt.toISOString()}, before the ${failureWord(lastFailure)} of ${windowName(lastFailure)} judged ${lastFailure.finishedAt.toISOString()}; reconcile it again` };
}

/** Rule 4.4: judged after the window's latest batch load, which ran the batch query and transform in use now. */
function batchLoadReason(v: Verdict, parts: Readonly<Record<string, string>> | undefined, managed: boolean): Reason {
  const load = v.batchLoad;
  if (load === null && managed && v.newestBatchRun === null) {
    // Judged with --assume-settled on rows dualrun never loaded: nothing says the current batch query produced them.
    const where = v.windowLabel ? ` --window ${v.windowLabel}` : '';
    return { rule: 'batch-definition', reason: `no batch run loaded its window: its batch rows are not known to be what the batch query produces (copied in, loaded by hand, left from before dualrun); run dualrun batch run${where}, then reconcile it` };
  }
  if (!load) return null;
  if (load.finishedAt && load.finishedAt > (v.startedAt ?? v.finishedAt)) {
    return { rule: 'before-batch-load', reason: `judged before its latest batch load (run ${load.runId}, finished ${load.finishedAt.toISOString()}); reconcile it again` };
  }
  const ran = load.definition;
  if (!ran || !parts) return null;
  const stale = [['batchQuery', 'batch query file'], ['batchTransform', 'batch transform']].filter(([k]) => ran[k] !== undefined && ran[k] !== parts[k]).map(([, name]) => name);
  if (stale.length === 0) return null;
  return { rule: 'batch-definition', reason: `its batch load (run ${load.runId}) ran an earlier ${stale.join(' and ')}: the batch rows are not what the current one produces; re-run the window (dualrun batch run --window ${v.windowLabel ?? '…'}), then reconcile it` };
}

/** Rule 4.6: the outputs still hold what was judged (not truncated, reloaded, rebuilt, recreated or altered since). */
function outputsChangedReason(v: Verdict, windowed: boolean, minRows: number): Reason {
  const rowsNow = v.rowsNow;
  if (!rowsNow) return null;
  const changed = (['batch', 'stream'] as const).flatMap((side) => {
    const was = (side === 'batch' ? v.batchRows : v.streamRows) ?? 0;
    const now = rowsNow[side];
    const floor = Math.min(was, Math.max(1, minRows));
    const differs = now === null || (windowed ? now !== was : now < floor);
    return differs ? [`the ${side} output ${now === null ? 'no longer exists' : `now holds ${now} rows`} (${was} when judged)`] : [];
  });
  if (changed.length) return { rule: 'rows-changed', reason: `${changed.join(', ')}: truncated, reloaded or rebuilt since it was judged; reconcile it again` };
  const shapes = rowsNow.shapes;
  const reshaped = shapes && v.shapes ? (['batch', 'stream'] as const).flatMap((side) => {
    const was = v.shapes![side];
    const change = was ? shapeChange(was, shapes[side]) : null;
    return change ? [`the ${side} output ${change}`] : [];
  }) : [];
  if (reshaped.length === 0) return null;
  return { rule: 'table-changed', reason: `${reshaped.join(', ')} since it was judged: the verdict is about another table or other columns; reconcile it again` };
}

/** Rule 4.1, stream side: the window's stream rows come from the stream code on disk now. */
function streamCodeReason(v: Verdict, code: StreamCoverage | undefined): Reason {
  const why = streamCodeWhy(v, code);
  return why ? { rule: 'stream-definition', reason: why } : null;
}

function streamCodeWhy(v: Verdict, code: StreamCoverage | undefined): string | null {
  if (!code || code.state === 'none') return null;
  if (code.state === 'stale') {
    return `the stream worker last started (${code.startedAt.toISOString()}) with an earlier stream transform, record schema or stream config (key, stream.source, stream.output) and keeps running it: restart \`dualrun stream\`, then judge windows it wrote (or replay)`;
  }
  if (code.coversFrom && (!v.windowStart || v.windowStart < code.coversFrom)) {
    return `its stream rows were written before the stream worker ran the current stream transform/record schema/stream config (from ${code.coversFrom.toISOString()}): replay (\`dualrun stream --from-beginning --reset-output\`) or judge windows that start after it`;
  }
  return null;
}

/**
 * Rule 4.3, the rest: the window is settled now on the batch side (its newest batch run,
 * any status, succeeded), and was when judged: after its end + the current settle by the
 * clock, not judged with --assume-settled while dualrun knew it was behind, and (proven by
 * a stream watermark under a shorter settle than now) with the watermark past the new horizon.
 */
function unsettledReason(v: Verdict, settleMs: number): Reason {
  const run = v.newestBatchRun;
  if (run && run.status !== 'succeeded' && run.status !== 'partial') {
    const what = run.status === 'running' ? `is running (started ${run.startedAt?.toISOString() ?? 'at an unknown time'})` : `is ${run.status}`;
    return { rule: 'batch-run', reason: `the newest batch run of its window (run ${run.runId}) ${what}: the window is not settled now; once a run succeeds, reconcile it again` };
  }
  if (v.openWindow) {
    const why = v.openWindow.state === 'waiting' ? 'batch.completion said the external job had not finished it'
      : v.openWindow.state === 'due' ? 'a fire was to load or adopt it and did not record that it did' : 'its batch load or adoption failed';
    return { rule: 'batch-run', reason: `the batch scheduler left its window ${v.openWindow.state} at its fire of ${v.openWindow.lastFireAt.toISOString()} (${why}): the window is not settled now; once it is adopted or loaded, reconcile it again` };
  }
  const st = v.settlement;
  if (st?.proof === 'behind') {
    return { rule: 'not-settled', reason: `judged with --assume-settled while it was not settled (${st.reason ?? 'dualrun knew it was behind'}); reconcile it again once settled` };
  }
  if (!v.windowEnd) return null;
  const due = new Date(v.windowEnd.getTime() + settleMs);
  const began = v.startedAt ?? v.finishedAt;
  if (began < due) {
    return { rule: 'not-settled', reason: `judged ${began.toISOString()}, before its window ended + reconcile.settle (${due.toISOString()}): late rows were still due; reconcile it again` };
  }
  if (st?.proof === 'proven' && st.settleMs < settleMs && !(st.watermark && st.watermark >= due)) {
    return { rule: 'not-settled', reason: `judged under reconcile.settle ${formatDuration(st.settleMs)} (now ${formatDuration(settleMs)}) with the stream at ${st.watermark?.toISOString() ?? 'an adopted watermark'}, not past ${due.toISOString()}; reconcile it again` };
  }
  return null;
}

interface Walk { streak: Verdict[]; notCounted: NotCounted[]; breaker: Breaker | null; visited: Verdict[] }

/** Latest result per window, newest window first: counted matches until a mismatch or error. */
function walkWindows(verdicts: readonly Verdict[], reason: (v: Verdict) => { rule: NotCountedRule; reason: string } | null): Walk {
  const walk: Walk = { streak: [], notCounted: [], breaker: null, visited: [] };
  for (const v of latestPerWindow(verdicts)) {
    walk.visited.push(v);
    if (v.verdict === 'mismatch' || v.verdict === 'error') {
      walk.breaker = { ...judged(v), rule: 'window-order', schemaDrift: v.schemaDrift === true };
      return walk;
    }
    const why = reason(v);
    if (why) walk.notCounted.push({ ...judged(v), ...why });
    else walk.streak.push(v);
  }
  return walk;
}

/** Where, among the windows walked from the newest used to the oldest used, a window's end falls short of the next newer one's start. */
function windowGaps(visited: readonly Verdict[], used: readonly Verdict[]): GateResult['gaps'] {
  const last = used.at(-1);
  if (!last) return [];
  const gaps: { older: string | null; newer: string | null }[] = [];
  for (let i = visited.indexOf(used[0]) + 1; i < visited.length && visited[i - 1] !== last; i++) {
    const newer = visited[i - 1];
    const older = visited[i];
    if (newer.windowStart && older.windowEnd && older.windowEnd.getTime() < newer.windowStart.getTime()) gaps.push({ older: older.windowLabel, newer: newer.windowLabel });
  }
  return gaps;
}

/** Latest non-pending result per window, newest window first (whole-table runs: each its own unit). */
export function latestPerWindow(verdicts: readonly Verdict[]): Verdict[] {
  const latest = new Map<string, Verdict>();
  for (const v of verdicts) {
    if (v.verdict === 'pending') continue;
    const key = v.windowStart ? `s:${v.windowStart.toISOString()}` : v.windowLabel ? `l:${v.windowLabel}` : wholeTableUnit(v);
    const prev = latest.get(key);
    if (!prev || later(v, prev)) latest.set(key, v);
  }
  return [...latest.values()].sort((a, b) => orderKey(b) - orderKey(a) || (later(a, b) ? -1 : 1));
}

/**
 * A whole-table run is its own unit, except that clean runs which saw the same data (the
 * same batch load, the same rows and checksums on both sides) are one observation, not
 * several: seven re-runs in a minute are not seven clean nights.
 */
function wholeTableUnit(v: Verdict): string {
  if (v.verdict !== 'match' || !v.batchChecksum || !v.streamChecksum) return `id:${v.verdict === 'error' ? 'e' : ''}${v.id}`;
  return `same:${JSON.stringify([v.batchLoad?.runId ?? null, v.batchRows ?? null, v.batchChecksum, v.streamRows ?? null, v.streamChecksum])}`;
}

/** The first version's helper: the leading run of matches (no evidence rules). */
export function cleanStreak(verdicts: readonly Verdict[]): { streak: Verdict[]; breaker: Verdict | null } {
  const streak: Verdict[] = [];
  for (const v of latestPerWindow(verdicts)) {
    if (v.verdict === 'mismatch' || v.verdict === 'error') return { streak, breaker: v };
    streak.push(v);
  }
  return { streak, breaker: null };
}

function newestFailure(verdicts: readonly Verdict[]): Verdict | null {
  let f: Verdict | null = null;
  for (const v of verdicts) if ((v.verdict === 'mismatch' || v.verdict === 'error') && (!f || later(v, f))) f = v;
  return f;
}

function describeBreaker(b: Breaker): string {
  const what = `${b.verdict === 'error' ? 'error' : b.schemaDrift ? 'mismatch (schema drift)' : 'mismatch'} on ${b.window ? `window ${b.window}` : 'the whole table'} judged ${b.judgedAt} (${b.verdict === 'error' ? 'reconcile error' : 'reconciliation'} #${b.id})`;
  return b.rule === 'window-order' ? `broken by the ${what}` : `broken by the ${what}, recorded after the windows below were judged`;
}

function listNotCounted(list: readonly NotCounted[]): string {
  const shown = list.slice(0, 10).map((n) => `${n.window ?? `run #${n.id}`} (${n.reason})`);
  return shown.join(', ') + (list.length > 10 ? ` and ${list.length - 10} more` : '');
}

function judged(v: Verdict): Judged {
  return { id: v.id, window: v.windowLabel, verdict: v.verdict, judgedAt: v.finishedAt.toISOString() };
}

function failureWord(v: Verdict): string {
  return v.verdict === 'error' ? 'error' : v.schemaDrift ? 'mismatch (schema drift)' : 'mismatch';
}

function windowName(v: Verdict): string {
  return v.windowLabel ? `window ${v.windowLabel}` : 'the whole table';
}

function later(a: Verdict, b: Verdict): boolean {
  const d = a.finishedAt.getTime() - b.finishedAt.getTime();
  return d > 0 || (d === 0 && BigInt(a.id) > BigInt(b.id));
}

/** Windows order by where they start; whole-table runs by when they finished. */
function orderKey(v: Verdict): number {
  return (v.windowStart ?? v.finishedAt).getTime();
}

function formatAge(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  if (h >= 24) return `${Math.floor(h / 24)}d ${h % 24}h`;
  if (h >= 1) return `${h}h ${Math.floor((ms % 3_600_000) / 60_000)}m`;
  return `${Math.max(0, Math.floor(ms / 60_000))}m`;
}
