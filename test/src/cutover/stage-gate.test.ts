/** The gate rules as a pure function (docs/cutover.md, "Gates"). */
import { describe, expect, it } from 'vitest';
import { cleanStreak, evaluateGate, type GateInput, type Verdict } from '../../../src/cutover/stage-gate.ts';

const NOW = new Date('2026-11-21T06:00:00Z');
const H = 3_600_000;
let nextId = 1;

/** A nightly verdict for `day`, finished at 03:30 UTC the morning after. */
function night(day: string, verdict: Verdict['verdict'], extra: Partial<Verdict> = {}): Verdict {
  const start = new Date(`${day}T00:00:00Z`);
  return { id: String(nextId++), windowLabel: day, windowStart: start, verdict, stage: 'shadow', finishedAt: new Date(start.getTime() + 27.5 * H), ...extra };
}

function gate(verdicts: Verdict[], over: Partial<GateInput> = {}) {
  return evaluateGate({ from: 'shadow', to: 'streaming', since: null, promoteAfter: 7, retireAfter: 3, maxEvidenceAgeMs: 48 * H, windowed: true, verdicts, now: NOW, ...over });
}

/** Nights ending 2026-11-19 (finished 2026-11-20 03:30, fresh), going back n days. */
function nights(n: number, verdict: Verdict['verdict'] = 'match', from = 19, extra: Partial<Verdict> = {}): Verdict[] {
  return Array.from({ length: n }, (_, i) => night(`2026-11-${String(from - i).padStart(2, '0')}`, verdict, extra));
}

describe('stage gate', () => {
  it('batch → shadow needs no evidence', () => {
    const g = gate([], { from: 'batch', to: 'shadow' });
    expect(g).toMatchObject({ ok: true, rule: 'none', evidence: [], missing: [] });
  });

  it('refuses with no history, saying so', () => {
    const g = gate([], { windowed: false });
    expect(g.ok).toBe(false);
    expect(g.missing[0]).toBe('0 of 7 consecutive clean runs; no finished reconciliations yet');
  });

  it('allows after promoteAfter clean windows and names exactly those as evidence (newest first)', () => {
    const v = nights(9);
    const g = gate(v);
    expect(g.ok).toBe(true);
    expect(g.clean).toBe(9);
    expect(g.evidence).toEqual(v.slice(0, 7).map((x) => x.id));
    expect(g.newestEvidenceAt).toBe('2026-11-20T03:30:00.000Z');
  });

  it('a mismatch resets the streak; the refusal names it', () => {
    const v = [...nights(4, 'match', 19), night('2026-11-15', 'mismatch'), ...nights(5, 'match', 14)];
    const g = gate(v);
    expect(g.ok).toBe(false);
    expect(g.clean).toBe(4);
    expect(g.missing).toEqual(['4 of 7 consecutive clean windows; last mismatch 2026-11-16 on window 2026-11-15']);
    expect(g.lastMismatch).toMatchObject({ window: '2026-11-15' });
  });

  it('the latest verdict of a window counts: a clean re-run heals a mismatch, a failed re-run breaks a streak', () => {
    // 11-16 first judged a mismatch at 01:00, then re-run clean at 03:30.
    const healed = [...nights(7), night('2026-11-16', 'mismatch', { finishedAt: new Date('2026-11-17T01:00:00Z') })];
    expect(gate(healed).ok).toBe(true);

    const rerunFailed = [...nights(7), night('2026-11-14', 'mismatch', { finishedAt: new Date('2026-11-20T05:00:00Z') })];
    const g = gate(rerunFailed);
    expect(g.ok).toBe(false);
    expect(g.clean).toBe(5);
  });

  it('pending verdicts are ignored, neither counting nor breaking', () => {
    const v = [night('2026-11-20', 'pending', { finishedAt: new Date('2026-11-21T03:30:00Z') }), ...nights(7)];
    const g = gate(v);
    expect(g.ok).toBe(true);
    expect(g.evidence).not.toContain(v[0].id);
  });

  it('stale evidence is refused even with a full streak', () => {
    const v = nights(7, 'match', 10);
    const g = gate(v);
    expect(g.ok).toBe(false);
    expect(g.stale).toBe(true);
    expect(g.missing).toEqual(['newest clean reconciliation finished 2026-11-11T03:30:00.000Z, 10d 2h ago (maxEvidenceAge 2d)']);
    expect(gate(v, { maxEvidenceAgeMs: 0 }).ok).toBe(true); // 0: no age limit
  });

  it('whole-table datasets: each run counts on its own', () => {
    const runs: Verdict[] = Array.from({ length: 3 }, (_, i) => ({
      id: String(100 + i), windowLabel: null, windowStart: null, verdict: 'match', stage: 'shadow', finishedAt: new Date(NOW.getTime() - (i + 1) * H),
    }));
    const g = gate(runs, { promoteAfter: 3, windowed: false });
    expect(g.ok).toBe(true);
    expect(g.evidence).toEqual(['100', '101', '102']);
    const broken = gate([{ ...runs[0], id: '99', verdict: 'mismatch', finishedAt: new Date(NOW.getTime() - 10 * 60_000) }, ...runs], { promoteAfter: 3, windowed: false });
    expect(broken.ok).toBe(false);
    expect(broken.missing[0]).toMatch(/^0 of 3 consecutive clean runs; last mismatch 2026-11-21 on window all \(whole table\)$/);
  });

  it('streaming → streaming-only counts only runs while streaming was served, since the stage began', () => {
    const since = new Date('2026-11-17T12:00:00Z');
    const shadowEra = nights(10, 'match', 16);
    const streamingEra = nights(2, 'match', 19, { stage: 'streaming' });
    const oldStreaming = nights(3, 'match', 12, { stage: 'streaming' }); // an earlier streaming period
    const g = gate([...streamingEra, ...shadowEra, ...oldStreaming], { from: 'streaming', to: 'streaming-only', since });
    expect(g.ok).toBe(false);
    expect(g.rule).toBe('retireAfter');
    expect(g.clean).toBe(2);
    expect(g.missing[0]).toBe('2 of 3 consecutive clean windows while streaming was served (since 2026-11-17T12:00:00.000Z)');
    const more = gate([night('2026-11-20', 'match', { stage: 'streaming', finishedAt: new Date('2026-11-21T03:30:00Z') }), ...streamingEra], { from: 'streaming', to: 'streaming-only', since });
    expect(more.ok).toBe(true);
  });

  it('cleanStreak orders windows by their start, not by when they were judged', () => {
    const late = night('2026-11-10', 'mismatch', { finishedAt: new Date('2026-11-21T00:00:00Z') });
    const { streak, breaker } = cleanStreak([late, ...nights(3)]);
    expect(streak).toHaveLength(3);
    expect(breaker?.id).toBe(late.id);
  });
});
