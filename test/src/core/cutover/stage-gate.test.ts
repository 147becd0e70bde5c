/** The gate rules as a pure function (docs/cutover.md, "Gates"). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cleanStreak, evaluateGate, type GateInput, type Verdict } from '../../../../src/core/cutover/stage-gate.ts';

const NOW = new Date('2026-11-21T06:00:00Z');
const H = 3_600_000;
let nextId = 1;

/** A nightly verdict for `day`, finished at 03:30 UTC the morning after. */
function night(day: string, verdict: Verdict['verdict'], extra: Partial<Verdict> = {}): Verdict {
  const start = new Date(`${day}T00:00:00Z`);
  return { id: String(nextId++), windowLabel: day, windowStart: start, verdict, stage: 'shadow', finishedAt: new Date(start.getTime() + 27.5 * H), batchRows: 10, streamRows: 10, ...extra };
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
    const m = v[4];
    expect(g.missing).toEqual([`4 of 7 consecutive clean windows; broken by the mismatch on window 2026-11-15 judged 2026-11-16T03:30:00.000Z (reconciliation #${m.id})`]);
    expect(g.lastMismatch).toMatchObject({ window: '2026-11-15' });
    expect(g.breaker).toMatchObject({ id: m.id, window: '2026-11-15', verdict: 'mismatch', rule: 'window-order' });
    expect(g.counted.map((c) => c.window)).toEqual(['2026-11-19', '2026-11-18', '2026-11-17', '2026-11-16']);
  });

  it('the latest verdict of a window counts, but only windows judged after the mismatch do', () => {
    // 11-16 first judged a mismatch at 11-17 01:00, then re-run clean at 03:30: the older windows were judged before the mismatch.
    const healed = [...nights(7), night('2026-11-16', 'mismatch', { finishedAt: new Date('2026-11-17T01:00:00Z') })];
    const h = gate(healed);
    expect(h.ok).toBe(false);
    expect(h.clean).toBe(4);
    expect(h.notCounted.map((n) => [n.window, n.rule])).toEqual([['2026-11-15', 'before-failure'], ['2026-11-14', 'before-failure'], ['2026-11-13', 'before-failure']]);
    expect(h.breaker).toMatchObject({ window: '2026-11-16', rule: 'judged-later', judgedAt: '2026-11-17T01:00:00.000Z' });
    expect(gate(healed, { promoteAfter: 4 }).ok).toBe(true);

    const rerunFailed = [...nights(7), night('2026-11-14', 'mismatch', { finishedAt: new Date('2026-11-20T05:00:00Z') })];
    const g = gate(rerunFailed);
    expect(g.ok).toBe(false);
    expect(g.clean).toBe(0);
  });

  it('a mismatch judged after later-dated windows were judged clean breaks the streak (promotion granted right after a mismatch)', () => {
    // promoteAfter 3: 11-04..11-06 judged clean; then a transform change makes 11-03 a mismatch, judged 18 s before the promote.
    const now = new Date('2026-11-07T12:00:00Z');
    const clean = ['2026-11-06', '2026-11-05', '2026-11-04'].map((d, i) => night(d, 'match', { finishedAt: new Date(now.getTime() - (3 - i) * 60_000 - 60_000) }));
    const late = night('2026-11-03', 'mismatch', { finishedAt: new Date(now.getTime() - 18_000) });
    const g = gate([...clean, late, ...nights(2, 'match', 2)], { promoteAfter: 3, now });
    expect(g.ok).toBe(false);
    expect(g.clean).toBe(0);
    expect(g.evidence).toEqual([]);
    expect(g.breaker).toMatchObject({ id: late.id, window: '2026-11-03', verdict: 'mismatch', judgedAt: late.finishedAt.toISOString() });
    expect(g.missing[0]).toContain(`broken by the mismatch on window 2026-11-03 judged ${late.finishedAt.toISOString()} (reconciliation #${late.id})`);
    expect(g.missing[0]).toContain(`did not count: 2026-11-06 (judged ${clean[0].finishedAt.toISOString()}, before the mismatch of window 2026-11-03`);
  });

  it('an error recorded after the evidence breaks the streak like a mismatch (errors were invisible to the gate)', () => {
    const v = nights(7);
    const failure: Verdict = { ...night('2026-11-12', 'error'), finishedAt: new Date('2026-11-20T04:00:00Z') };
    const g = gate(v, { lastFailure: failure });
    expect(g.ok).toBe(false);
    expect(g.breaker).toMatchObject({ verdict: 'error', window: '2026-11-12', rule: 'judged-later' });
    expect(g.missing[0]).toContain(`broken by the error on window 2026-11-12 judged 2026-11-20T04:00:00.000Z (reconcile error #${failure.id})`);
    // The newest window errored: it is the breaker in window order.
    const newest = gate([{ ...night('2026-11-20', 'error'), finishedAt: new Date('2026-11-21T03:30:00Z') }, ...v]);
    expect(newest.clean).toBe(0);
    expect(newest.breaker).toMatchObject({ verdict: 'error', rule: 'window-order' });
  });

  it('schema drift is named as the breaker', () => {
    const drift = night('2026-11-20', 'mismatch', { finishedAt: new Date('2026-11-21T03:30:00Z'), schemaDrift: true });
    const g = gate([drift, ...nights(7)]);
    expect(g.missing[0]).toContain('broken by the mismatch (schema drift) on window 2026-11-20');
  });

  it('evidence judged before the dataset definition changed does not count (promotion on evidence from before a transform change)', () => {
    const v = nights(7, 'match', 19, { definition: 'old' });
    const changedAt = new Date('2026-11-20T10:00:00Z');
    const def = { fingerprint: 'new', since: changedAt, changed: ['stream transform'] };
    const g = gate(v, { definition: def });
    expect(g.ok).toBe(false);
    expect(g.clean).toBe(0);
    expect(g.notCounted).toHaveLength(7);
    expect(g.notCounted[0]).toMatchObject({ window: '2026-11-19', rule: 'definition' });
    expect(g.notCounted[0].reason).toBe('judged under an earlier definition of the dataset (stream transform changed) (current since 2026-11-20T10:00:00.000Z)');
    // Judged under the same fingerprint but before it became current again (A → B → A): still not evidence.
    const back = gate(nights(7, 'match', 19, { definition: 'new' }), { definition: def });
    expect(back.clean).toBe(0);
    expect(back.notCounted[0].reason).toMatch(/^judged before the dataset definition last changed at 2026-11-20T10:00:00.000Z/);
    // A change dualrun has not recorded yet: nothing counts.
    expect(gate(v, { definition: { fingerprint: 'new', since: null, changed: ['batch query file'] } }).clean).toBe(0);
    // Judged after the change, under it: counts.
    const after = nights(7, 'match', 19, { definition: 'new', finishedAt: new Date('2026-11-20T11:00:00Z') });
    expect(gate(after, { definition: def }).ok).toBe(true);
  });

  it('a clean window whose outputs no longer hold the rows judged is not evidence (promotion onto a truncated stream output)', () => {
    const same = nights(7, 'match', 19, { rowsNow: { batch: 10, stream: 10 } });
    expect(gate(same).ok).toBe(true);
    const [first, ...rest] = same;
    const g = gate([{ ...first, rowsNow: { batch: 10, stream: 0 } }, ...rest]);
    expect(g).toMatchObject({ ok: false, clean: 6 });
    expect(g.notCounted[0]).toMatchObject({ window: '2026-11-19', rule: 'rows-changed', reason: 'the stream output now holds 0 rows (10 when judged): truncated, reloaded or rebuilt since it was judged; reconcile it again' });
    expect(gate([{ ...first, rowsNow: { batch: null, stream: 10 } }, ...rest]).notCounted[0].reason).toMatch(/^the batch output no longer exists \(10 when judged\)/);
    // More rows count too: the window was written to since.
    expect(gate([{ ...first, rowsNow: { batch: 11, stream: 10 } }, ...rest]).clean).toBe(6);
    // A whole-table run: a live total moves; only an output emptied (below minRowsPerWindow) or gone drops it.
    const whole = (now: { batch: number | null; stream: number | null }) => gate([{ ...first, windowLabel: null, windowStart: null, rowsNow: now }], { promoteAfter: 1, windowed: false });
    expect(whole({ batch: 12, stream: 9 }).ok).toBe(true);
    expect(whole({ batch: 10, stream: 0 }).notCounted[0].rule).toBe('rows-changed');
    expect(whole({ batch: 10, stream: null }).ok).toBe(false);
  });

  it('a clean window whose stream rows were written since it was judged is not evidence (stream-rewritten); unread or unrecorded sums, and whole tables, are not checked', () => {
    const writers = { rows: 10, xminSum: '12345' };
    const judged = nights(7, 'match', 19, { streamWriters: writers, rowsNow: { batch: 10, stream: 10, streamXminSum: '12345' } });
    expect(gate(judged).ok).toBe(true);
    const [first, ...rest] = judged;
    const moved = gate([{ ...first, rowsNow: { batch: 10, stream: 10, streamXminSum: '12399' } }, ...rest]);
    expect(moved).toMatchObject({ ok: false, clean: 6 });
    expect(moved.notCounted[0]).toMatchObject({ window: '2026-11-19', rule: 'stream-rewritten' });
    // A count that moved is rows-changed, checked first, whatever the sum.
    expect(gate([{ ...first, rowsNow: { batch: 10, stream: 9, streamXminSum: '12345' } }, ...rest]).notCounted[0].rule).toBe('rows-changed');
    // Not read now (no row versions), not recorded then, or a whole-table run: not this rule.
    expect(gate([{ ...first, rowsNow: { batch: 10, stream: 10 } }, ...rest]).ok).toBe(true);
    expect(gate([{ ...first, streamWriters: null, rowsNow: { batch: 10, stream: 10, streamXminSum: '1' } }, ...rest]).ok).toBe(true);
    expect(gate([{ ...first, windowLabel: null, windowStart: null, rowsNow: { batch: 10, stream: 10, streamXminSum: '1' } }], { promoteAfter: 1, windowed: false }).ok).toBe(true);
  });

  it('empty windows are not evidence (7/7 clean on windows with 0 rows)', () => {
    const empty = nights(7, 'match', 19, { batchRows: 0, streamRows: 0 });
    const g = gate(empty);
    expect(g.ok).toBe(false);
    expect(g.clean).toBe(0);
    expect(g.notCounted.map((n) => n.window)).toEqual(empty.map((e) => e.windowLabel));
    expect(g.notCounted[0]).toMatchObject({ rule: 'min-rows', reason: '0 batch rows, 0 stream rows (cutover.minRowsPerWindow 1 on both sides)' });
    expect(g.missing[0]).toContain('did not count: 2026-11-19 (0 batch rows, 0 stream rows');
    // Both sides must hold the minimum; one side alone is not enough.
    const oneSided = gate(nights(7, 'match', 19, { batchRows: 500, streamRows: 40 }), { minRowsPerWindow: 50 });
    expect(oneSided.clean).toBe(0);
    expect(gate(nights(7, 'match', 19, { batchRows: 50, streamRows: 50 }), { minRowsPerWindow: 50 }).ok).toBe(true);
    expect(gate(empty, { minRowsPerWindow: 0 }).ok).toBe(true);
  });

  it('a window whose batch load is partial is not evidence, even when judged (a window loaded before it ended reads as complete forever)', () => {
    const v = nights(7);
    const partial = night('2026-11-20', 'match', { finishedAt: new Date('2026-11-20T12:00:00Z'), batchLoad: { runId: '9', status: 'partial', finishedAt: new Date('2026-11-20T11:00:00Z') } });
    const g = gate([partial, ...v]);
    expect(g.ok).toBe(true); // skipped, not breaking
    expect(g.evidence).not.toContain(partial.id);
    expect(g.notCounted[0]).toMatchObject({ window: '2026-11-20', rule: 'partial-load' });
    // Judged before the window's latest (complete) batch load: it judged other data.
    const stale = night('2026-11-20', 'match', { finishedAt: new Date('2026-11-21T01:00:00Z'), batchLoad: { runId: '10', status: 'succeeded', finishedAt: new Date('2026-11-21T02:00:00Z') } });
    const s = gate([stale, ...v]);
    expect(s.notCounted[0]).toMatchObject({ window: '2026-11-20', rule: 'before-batch-load' });
    expect(s.notCounted[0].reason).toContain('run 10');
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
      id: String(100 + i), windowLabel: null, windowStart: null, verdict: 'match', stage: 'shadow', finishedAt: new Date(NOW.getTime() - (i + 1) * H), batchRows: 5, streamRows: 5,
    }));
    const g = gate(runs, { promoteAfter: 3, windowed: false });
    expect(g.ok).toBe(true);
    expect(g.evidence).toEqual(['100', '101', '102']);
    const broken = gate([{ ...runs[0], id: '99', verdict: 'mismatch', finishedAt: new Date(NOW.getTime() - 10 * 60_000) }, ...runs], { promoteAfter: 3, windowed: false });
    expect(broken.ok).toBe(false);
    expect(broken.missing[0]).toMatch(/^0 of 3 consecutive clean runs; broken by the mismatch on the whole table judged 2026-11-21T05:50:00.000Z \(reconciliation #99\)$/);
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

  it('windows never judged between the windows used are listed as gaps ("7 consecutive" spanning 10 nights said nothing of the 3 missing)', () => {
    const DAY = 24 * H;
    const base = Date.parse('2026-11-19T00:00:00Z');
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 10 }), (offsets, required) => {
      const days = [...offsets].sort((a, b) => a - b); // 0 = newest
      const verdicts = days.map((d) => {
        const start = new Date(base - d * DAY);
        return night(start.toISOString().slice(0, 10), 'match', { windowEnd: new Date(start.getTime() + DAY), finishedAt: new Date(NOW.getTime() - H) });
      });
      const g = gate(verdicts, { promoteAfter: required });
      const used = days.slice(0, required);
      const expected = used.slice(1).flatMap((d, i) => (d - used[i] > 1
        ? [{ older: new Date(base - d * DAY).toISOString().slice(0, 10), newer: new Date(base - used[i] * DAY).toISOString().slice(0, 10) }] : []));
      expect(g.gaps).toEqual(expected);
      expect(g.ok).toBe(days.length >= required); // gaps do not break a streak (rule 3)
      // A newer window that did not count is not the edge of a gap between windows used.
      const early = night(new Date(base + 5 * DAY).toISOString().slice(0, 10), 'match', { windowEnd: new Date(base + 6 * DAY), finishedAt: new Date(NOW.getTime() - H) });
      expect(gate([early, ...verdicts], { promoteAfter: required, settleMs: 0 }).gaps).toEqual(expected);
    }), { numRuns: 200 });
  });

  it('a reconciliation begun in an earlier streaming period and finished after a re-promotion does not count toward retirement (it judged the earlier period)', () => {
    const since = new Date('2026-11-20T04:00:00Z');
    const straddling = night('2026-11-19', 'match', { stage: 'streaming', startedAt: new Date('2026-11-20T03:00:00Z'), finishedAt: new Date('2026-11-20T04:10:00Z') });
    const after = nights(2, 'match', 18, { stage: 'streaming', startedAt: new Date('2026-11-20T04:20:00Z'), finishedAt: new Date('2026-11-20T04:30:00Z') });
    const g = gate([straddling, ...after], { from: 'streaming', to: 'streaming-only', since, retireAfter: 3 });
    expect(g).toMatchObject({ ok: false, clean: 2 });
    expect(g.counted.map((c) => c.window)).toEqual(['2026-11-18', '2026-11-17']);
    expect(gate([{ ...straddling, startedAt: new Date('2026-11-20T04:05:00Z') }, ...after], { from: 'streaming', to: 'streaming-only', since, retireAfter: 3 }).ok).toBe(true);
  });

  it('whole-table runs that saw the same data count once (seven re-runs of one state in a minute passed promoteAfter 7)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 15 }), (states) => {
      const runs: Verdict[] = states.map((st, i) => ({
        id: String(1000 + i), windowLabel: null, windowStart: null, verdict: 'match', stage: 'shadow',
        finishedAt: new Date(NOW.getTime() - (states.length - i) * 60_000), batchRows: 10, streamRows: 10 + st,
        batchChecksum: 'b1', streamChecksum: `s${st}`,
      }));
      const g = gate(runs, { windowed: false, promoteAfter: 3 });
      const distinct = new Set(states).size;
      expect(g.clean).toBe(distinct);
      expect(g.ok).toBe(distinct >= 3);
      // Each counted unit is the newest run of its state.
      const newestOf = new Map(states.map((st, i) => [st, String(1000 + i)]));
      expect(new Set(g.evidence).size).toBe(g.evidence.length);
      for (const id of g.evidence) expect([...newestOf.values()]).toContain(id);
    }), { numRuns: 200 });
  });
});
