/**
 * The evidence gates, as a pure function of reconciliation history (no I/O, so
 * every rule is unit-tested). docs/cutover.md states the same rules for people.
 *
 *  - batch → shadow: no evidence. It only starts the streaming path; readers still
 *    see the batch output.
 *  - shadow → streaming: `promoteAfter` consecutive clean windows, any stage.
 *  - streaming → streaming-only: `retireAfter` consecutive clean windows among the
 *    reconciliations that ran while streaming was served in the current streaming
 *    period (stage = 'streaming', finished at or after the stage began).
 *
 * "Consecutive": drop `pending` verdicts; keep the latest verdict of each window
 * (a re-run replaces the earlier one); order windows newest first; count `match`
 * until the first `mismatch`. A whole-table dataset has no windows: each run
 * counts on its own, newest first. Gaps between windows do not break a streak;
 * the freshness rule (newest evidence within `maxEvidenceAge`, 0 = no limit)
 * guards against a reconciler that stopped running.
 */
import type { Stage } from '../stages.ts';
import { formatDuration } from '../duration.ts';

export interface Verdict {
  /** dualrun.reconciliations.id (bigint, kept as text). */
  readonly id: string;
  readonly windowLabel: string | null;
  readonly windowStart: Date | null;
  readonly verdict: 'match' | 'mismatch' | 'pending';
  /** The dataset's stage when the reconciliation ran. */
  readonly stage: string | null;
  readonly finishedAt: Date;
}

export interface GateInput {
  readonly from: Stage;
  readonly to: Stage;
  /** When the current stage began (the retire gate counts only since then). */
  readonly since: Date | null;
  readonly promoteAfter: number;
  readonly retireAfter: number;
  readonly maxEvidenceAgeMs: number;
  /** Whether the dataset is cut into windows (only changes the wording). */
  readonly windowed: boolean;
  readonly verdicts: readonly Verdict[];
  readonly now: Date;
}

export interface GateResult {
  readonly from: Stage;
  readonly to: Stage;
  readonly rule: 'none' | 'promoteAfter' | 'retireAfter';
  readonly ok: boolean;
  readonly required: number;
  /** Length of the current streak of clean windows (may exceed `required`). */
  readonly clean: number;
  /** Ids of the reconciliations the decision rests on (newest first, at most `required`). */
  readonly evidence: readonly string[];
  readonly newestEvidenceAt: string | null;
  readonly maxEvidenceAgeMs: number;
  readonly stale: boolean;
  readonly lastMismatch: { readonly id: string; readonly window: string | null; readonly finishedAt: string } | null;
  /** Human sentences saying what is missing; empty when ok. */
  readonly missing: readonly string[];
}

/** The one-step-forward gate for a transition. */
export function evaluateGate(input: GateInput): GateResult {
  const { from, to } = input;
  const base = { from, to, maxEvidenceAgeMs: input.maxEvidenceAgeMs };
  if (from === 'batch' && to === 'shadow') {
    return { ...base, rule: 'none', ok: true, required: 0, clean: 0, evidence: [], newestEvidenceAt: null, stale: false, lastMismatch: null, missing: [] };
  }
  const retire = from === 'streaming' && to === 'streaming-only';
  if (!retire && !(from === 'shadow' && to === 'streaming')) throw new Error(`no gate for ${from} → ${to}`);

  const required = retire ? input.retireAfter : input.promoteAfter;
  const counted = retire
    ? input.verdicts.filter((v) => v.stage === 'streaming' && (!input.since || v.finishedAt >= input.since))
    : input.verdicts;
  const { streak, breaker } = cleanStreak(counted);
  const used = streak.slice(0, required);
  const newest = used.length ? new Date(Math.max(...used.map((v) => v.finishedAt.getTime()))) : null;
  const age = newest ? input.now.getTime() - newest.getTime() : null;
  const stale = used.length > 0 && input.maxEvidenceAgeMs > 0 && age! > input.maxEvidenceAgeMs;

  const missing: string[] = [];
  const unit = input.windowed ? 'windows' : 'runs';
  const where = retire ? ` while streaming was served${input.since ? ` (since ${input.since.toISOString()})` : ''}` : '';
  if (streak.length < required) {
    let why = `${streak.length} of ${required} consecutive clean ${unit}${where}`;
    if (breaker) why += `; last mismatch ${breaker.finishedAt.toISOString().slice(0, 10)} on window ${breaker.windowLabel ?? 'all (whole table)'}`;
    else if (counted.filter((v) => v.verdict !== 'pending').length === 0) why += `; no finished reconciliations${where} yet`;
    missing.push(why);
  }
  if (stale) missing.push(`newest clean reconciliation finished ${newest!.toISOString()}, ${formatAge(age!)} ago (maxEvidenceAge ${formatDuration(input.maxEvidenceAgeMs)})`);

  return {
    ...base,
    rule: retire ? 'retireAfter' : 'promoteAfter',
    ok: missing.length === 0,
    required,
    clean: streak.length,
    evidence: used.map((v) => v.id),
    newestEvidenceAt: newest?.toISOString() ?? null,
    stale,
    lastMismatch: breaker ? { id: breaker.id, window: breaker.windowLabel, finishedAt: breaker.finishedAt.toISOString() } : null,
    missing,
  };
}

/** Latest non-pending verdict per window, newest window first; the leading run of matches. */
export function cleanStreak(verdicts: readonly Verdict[]): { streak: Verdict[]; breaker: Verdict | null } {
  const latest = new Map<string, Verdict>();
  for (const v of verdicts) {
    if (v.verdict === 'pending') continue;
    // Whole-table runs have no window: each run is its own unit.
    const key = v.windowStart ? `s:${v.windowStart.toISOString()}` : v.windowLabel ? `l:${v.windowLabel}` : `id:${v.id}`;
    const prev = latest.get(key);
    if (!prev || later(v, prev)) latest.set(key, v);
  }
  const ordered = [...latest.values()].sort((a, b) => orderKey(b) - orderKey(a) || (later(a, b) ? -1 : 1));
  const streak: Verdict[] = [];
  for (const v of ordered) {
    if (v.verdict === 'mismatch') return { streak, breaker: v };
    streak.push(v);
  }
  return { streak, breaker: null };
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
