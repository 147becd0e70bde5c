/** stream.maxDeadLetterRate arithmetic (pure): dead letters among the last `window` records. */
import { describe, expect, it } from 'vitest';
import { DeadLetterRate } from '../../streaming/dead-letter-rate.ts';
import { alertBody, alertEvent } from '../../src/core/alerts/alert-event.ts';

describe('DeadLetterRate', () => {
  it('counts against the fixed window: one bad record at start-up is not a 100 % rate', () => {
    const r = new DeadLetterRate({ ratio: 0.01, window: 1000 });
    expect(r.add(1, 1)).toEqual({ dead: 1, records: 1, exceeded: false });
    for (let i = 0; i < 9; i++) r.add(10, 1);
    expect(r.read()).toEqual({ dead: 10, records: 91, exceeded: false }); // exactly ratio × window is allowed
    expect(r.add(5, 1).exceeded).toBe(true);
  });

  it('old batches slide out of the window', () => {
    const r = new DeadLetterRate({ ratio: 0.01, window: 100 });
    expect(r.add(50, 5).exceeded).toBe(true);
    r.add(50, 0);
    expect(r.add(50, 0)).toEqual({ dead: 0, records: 100, exceeded: false });
  });

  it('a batch straddling the window edge counts pro rata', () => {
    const r = new DeadLetterRate({ ratio: 0.01, window: 100 });
    r.add(200, 20); // 10 % dead, uniformly: 10 of the last 100
    expect(r.read()).toEqual({ dead: 10, records: 100, exceeded: true });
    expect(r.add(50, 0)).toEqual({ dead: 5, records: 100, exceeded: true });
    expect(r.add(60, 0)).toEqual({ dead: 0, records: 100, exceeded: false });
  });

  it('redelivered-only batches (0 records) change nothing', () => {
    const r = new DeadLetterRate({ ratio: 0.5, window: 10 });
    r.add(4, 3);
    expect(r.add(0, 0)).toEqual({ dead: 3, records: 4, exceeded: false });
  });
});

describe('alert body', () => {
  it('has text for Slack-compatible receivers plus the structured fields', () => {
    const e = alertEvent('batch_failed', 'orders', '2026-11-20', 'relation "x" does not exist', { runId: 7 });
    expect(alertBody(e)).toEqual({
      text: 'dualrun: batch run failed (orders 2026-11-20): relation "x" does not exist',
      event: 'batch_failed', dataset: 'orders', window: '2026-11-20', details: { runId: 7 }, at: e.at.toISOString(),
    });
  });

  it('escapes the three characters Slack gives meaning to in text, and only in text', () => {
    const e = alertEvent('batch_failed', 'orders', null, 'column "a<b" & <x> failed', { raw: '<x>' });
    expect(alertBody(e).text).toBe('dualrun: batch run failed (orders): column "a&lt;b" &amp; &lt;x&gt; failed');
    expect(alertBody(e).details).toEqual({ raw: '<x>' });
  });
});
