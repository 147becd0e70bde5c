/** `dualrun cutover status|promote|rollback|history` as a user runs them (real CLI, real Postgres). */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.ts';
import { createFixture, daysAgo, rawConfig, seedVerdict, servedSide, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let cwd: string;
beforeAll(async () => {
  fx = await createFixture();
  cwd = tempDir();
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), JSON.stringify(rawConfig(fx.db.url), null, 2));
});
afterAll(async () => {
  await fx?.cleanup();
  fs.rmSync(cwd, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(['cutover', ...args], { cwd, env: { USER: 'ci-user' } });

describe('dualrun cutover', () => {
  it('status, promote, a refusal that says what is missing (exit 1), forced promotion, rollback, history', async () => {
    const status = await cli('status', '--format', 'json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ dataset: 'orders', stage: 'batch', version: 0, serving: { side: 'batch', table: 'analytics.orders_batch', view: 'analytics.orders' }, next: { stage: 'shadow', rule: 'none', ready: true } });

    const toShadow = await cli('promote', 'orders', '--reason', 'start shadowing');
    expect(toShadow.code, toShadow.stderr).toBe(0);
    expect(toShadow.stdout).toContain('orders: batch → shadow; version 1');
    expect(await servedSide(fx.db.pool)).toBe('batch');

    await seedVerdict(fx.db.pool, { day: daysAgo(3), verdict: 'match', agoHours: 50 });
    await seedVerdict(fx.db.pool, { day: daysAgo(2), verdict: 'mismatch', agoHours: 30 });
    await seedVerdict(fx.db.pool, { day: daysAgo(1), verdict: 'match', agoHours: 6 });
    const refused = await cli('promote', 'orders', '--reason', 'looks fine', '--format', 'json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`DUALRUN_GATE_REFUSED: orders: shadow → streaming refused: 1 of 3 consecutive clean windows; broken by the mismatch on window ${daysAgo(2)}`);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'DUALRUN_GATE_REFUSED', gate: { ok: false, clean: 1, required: 3 } });

    const refusedText = await cli('promote', 'orders', '--reason', 'looks fine');
    expect(refusedText.code).toBe(1);
    expect(refusedText.stdout).toContain('orders: shadow → streaming refused (1/3 clean)\n  counted: ' + daysAgo(1));
    expect(refusedText.stdout).toMatch(new RegExp(`streak broken by: mismatch on ${daysAgo(2)} judged \\S+ \\(reconciliation #\\d+\\)\\n  missing: 1 of 3 consecutive clean windows; broken by`));

    const text = await cli('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/orders\s+shadow\s+analytics\.orders → analytics\.orders_batch\s+streaming\s+1\/3 clean\s+1 of 3/);
    expect(text.stdout).toContain(`\norders → streaming:\n  counted: ${daysAgo(1)} (reconciliation #`);
    expect(text.stdout).toContain(`  streak broken by: mismatch on ${daysAgo(2)} judged `);

    const forced = await cli('promote', 'orders', '--reason', 'incident 42: legacy cluster down', '--force', '--format', 'json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ from: 'shadow', to: 'streaming', forced: true, audit: { actor: 'ci-user', forced: true } });
    expect(await servedSide(fx.db.pool)).toBe('stream');

    // A connection string pasted into a reason: the append-only audit keeps it scrubbed (it cannot be mended later).
    const back = await cli('rollback', 'orders', '--reason', 'incident over, legacy at postgres://ops:Hunter2secret@db2/shop password=Zebra77x', '--actor', 'alice');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('orders: streaming → shadow');
    expect(await servedSide(fx.db.pool)).toBe('batch');

    const history = await cli('history', 'orders', '--format', 'json');
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout).map((h: { action: string; to: string; forced: boolean; actor: string }) => [h.action, h.to, h.forced, h.actor])).toEqual([
      ['promote', 'shadow', false, 'ci-user'], ['promote', 'streaming', true, 'ci-user'], ['rollback', 'shadow', false, 'alice'],
    ]);
    const stored = (await fx.db.pool.query<{ reason: string }>("SELECT reason FROM dualrun.cutover_audit WHERE dataset = 'orders' AND action = 'rollback'")).rows[0].reason;
    for (const text of [history.stdout, stored]) {
      expect(text).toContain('legacy at postgres://ops:***@db2/shop password=***');
      for (const secret of ['Hunter2secret', 'Zebra77x']) expect(text).not.toContain(secret);
    }
    const historyText = await cli('history', 'orders');
    expect(historyText.stdout).toMatch(/FORCED/);
  });

  it('two concurrent CLI promotes with --from: one succeeds, the other exits 1 with a clear conflict', async () => {
    const [a, b] = await Promise.all([
      cli('promote', 'plain', '--from', 'batch', '--reason', 'one', '--actor', 'one'),
      cli('promote', 'plain', '--from', 'batch', '--reason', 'two', '--actor', 'two'),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes, a.stderr + b.stderr).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(/DUALRUN_CONFLICT: plain changed under you: expected (stage batch|stage version 0), but it is now shadow at version 1 \(promote batch → shadow by (one|two)/);
    expect(loser.stderr).toContain('Nothing was changed');
  });

  it('usage mistakes exit 2', async () => {
    expect((await cli('promote', 'orders')).code).toBe(2); // no --reason
    expect((await cli('rollback', 'orders', '--to', 'sideways', '--reason', 'x')).code).toBe(2);
    const unknown = await cli('promote', 'nope', '--reason', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('DUALRUN_DATASET_UNKNOWN');
  });
});
