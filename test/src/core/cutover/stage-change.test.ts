/**
 * Stage changes on a real Postgres: gates from seeded reconciliation history,
 * the serving view, the audit, optimistic concurrency.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, rollback } from '../../../../src/core/cutover/stage-change.ts';
import { readHistory } from '../../../../src/core/cutover/audit-log.ts';
import { readServing } from '../../../../src/core/cutover/serving.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { readStage } from '../../../../src/core/stages.ts';
import { DualrunError } from '../../../../src/core/errors.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime } from '../../../../src/core/runtime.ts';
import { pino } from 'pino';
import { createFixture, daysAgo, rawConfig, seedVerdict, servedSide, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

async function refusal(p: Promise<unknown>): Promise<DualrunError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DualrunError);
  return e as DualrunError;
}

const why = { reason: 'test', actor: 'tester' };

describe('cutover stage changes', () => {
  it('a new dataset is in batch; batch → shadow needs no evidence and creates the serving view on the batch side', async () => {
    const pool = fx.db.pool;
    expect(await readStage(pool, 'orders')).toBe('batch');
    const c = await promote(fx.rt, 'orders', why);
    expect(c).toMatchObject({ from: 'batch', to: 'shadow', version: 1, forced: false, serving: 'analytics.orders_batch' });
    expect(await servedSide(pool)).toBe('batch');
    // The view has the batch output's columns only, never the stream side's _dr_* metadata.
    const cols = await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'orders' ORDER BY ordinal_position`);
    expect(cols.rows.map((r) => r.column_name)).toEqual(['order_id', 'order_date', 'amount', 'side']);
  });

  it('shadow → streaming is refused with what is missing, and a mismatch in the streak resets it', async () => {
    await seedVerdict(fx.db.pool, { day: daysAgo(6), verdict: 'match', agoHours: 130 });
    await seedVerdict(fx.db.pool, { day: daysAgo(5), verdict: 'mismatch', agoHours: 100 });
    await seedVerdict(fx.db.pool, { day: daysAgo(4), verdict: 'match', agoHours: 80 });
    await seedVerdict(fx.db.pool, { day: daysAgo(3), verdict: 'match', agoHours: 60 });
    await seedVerdict(fx.db.pool, { day: daysAgo(2), verdict: 'pending', agoHours: 30 });
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.code).toBe('DUALRUN_GATE_REFUSED');
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(new RegExp(`2 of 3 consecutive clean windows; broken by the mismatch on window ${daysAgo(5)} judged \\S+ \\(reconciliation #\\d+\\)`));
    // ...and (60h old) the newest evidence is stale too, but the streak is what is missing first.
    expect(await readStage(fx.db.pool, 'orders')).toBe('shadow');
    expect(await servedSide(fx.db.pool)).toBe('batch');
  });

  it('a full streak with stale evidence is refused', async () => {
    await seedVerdict(fx.db.pool, { day: daysAgo(10), verdict: 'match', agoHours: 59 }); // older window, fills the streak
    const status = (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!;
    expect(status.next).toMatchObject({ stage: 'streaming', progress: '2/3 clean', ready: false });
    // A clean re-run of the mismatching window heals it: the streak is now 3+, but the newest is 59h old.
    await seedVerdict(fx.db.pool, { day: daysAgo(5), verdict: 'match', agoHours: 58 });
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.code).toBe('DUALRUN_GATE_REFUSED');
    expect(e.message).toMatch(/newest clean reconciliation finished .*, 2d 10h ago \(maxEvidenceAge 2d\)/);
    expect(e.message).not.toContain('of 3 consecutive');
  });

  it('is allowed after N fresh clean runs, recording exactly those as evidence, and switches the view to the stream side', async () => {
    const fresh = await seedVerdict(fx.db.pool, { day: daysAgo(2), verdict: 'match', agoHours: 5 });
    const c = await promote(fx.rt, 'orders', { reason: 'clean week', actor: 'alice' });
    expect(c).toMatchObject({ from: 'shadow', to: 'streaming', forced: false, serving: 'analytics.orders_stream' });
    expect(c.gate!.evidence).toHaveLength(3);
    expect(c.gate!.evidence[0]).toBe(fresh);
    expect(c.audit).toMatchObject({ actor: 'alice', reason: 'clean week', action: 'promote', evidence: c.gate!.evidence, serving: 'analytics.orders_stream' });
    expect(await servedSide(fx.db.pool)).toBe('stream');
    // Stream types are cast to the batch output's, so readers see one stable shape.
    const t = await fx.db.pool.query(`SELECT data_type, numeric_precision FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'orders' AND column_name = 'amount'`);
    expect(t.rows[0]).toEqual({ data_type: 'numeric', numeric_precision: 12 });
    expect(await readServing(fx.rt, 'orders')).toMatchObject({ stage: 'streaming', side: 'stream', table: { text: 'analytics.orders_stream' }, view: { text: 'analytics.orders' } });
  });

  it('streaming → streaming-only needs retireAfter clean runs while streaming was served; --force bypasses and is audited', async () => {
    // Shadow-era matches do not count towards retirement.
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.message).toContain('0 of 2 consecutive clean windows while streaming was served');
    const c = await promote(fx.rt, 'orders', { reason: 'legacy cluster is being decommissioned tonight', actor: 'bob', force: true });
    expect(c).toMatchObject({ to: 'streaming-only', forced: true });
    const audit = (await readHistory(fx.db.pool, 'orders')).at(-1)!;
    expect(audit).toMatchObject({ action: 'promote', from: 'streaming', to: 'streaming-only', forced: true, actor: 'bob', evidence: [] });
    expect(audit.gate).toMatchObject({ ok: false, rule: 'retireAfter', required: 2 });
  });

  it('rollback needs no evidence, defaults to the previous stage, and --to restores the batch view', async () => {
    const back = await rollback(fx.rt, 'orders', why);
    expect(back).toMatchObject({ from: 'streaming-only', to: 'streaming' });
    expect(back.warnings[0]).toMatch(/legacy batch path was retired \(streaming-only\) from .*; its output misses 1 window\(s\)/);
    expect(await servedSide(fx.db.pool)).toBe('stream');
    const c = await rollback(fx.rt, 'orders', { ...why, to: 'batch' });
    expect(c).toMatchObject({ from: 'streaming', to: 'batch', serving: 'analytics.orders_batch' });
    expect(await servedSide(fx.db.pool)).toBe('batch');
    expect((await refusal(rollback(fx.rt, 'orders', why))).code).toBe('DUALRUN_USAGE');
    expect((await refusal(promote(fx.rt, 'orders', { reason: '  ' }))).code).toBe('DUALRUN_USAGE');
  });

  it('two concurrent promotes: one succeeds, the other gets a clear conflict and changes nothing', async () => {
    const { version } = await readServing(fx.rt, 'orders');
    const results = await Promise.allSettled([
      promote(fx.rt, 'orders', { ...why, actor: 'one', expectedVersion: version }),
      promote(fx.rt, 'orders', { ...why, actor: 'two', expectedVersion: version }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    const err = failed[0].reason as DualrunError;
    expect(err.code).toBe('DUALRUN_CONFLICT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(new RegExp(`expected stage version ${version}, but it is now shadow at version ${version + 1} \\(promote batch → shadow by (one|two)`));
    const history = await readHistory(fx.db.pool, 'orders');
    expect(history.filter((h) => h.stageVersion === version + 1)).toHaveLength(1);
    expect(await readStage(fx.db.pool, 'orders')).toBe('shadow');
  });

  it('concurrent promotes without an expected version still serialise on the stage row', async () => {
    // Both start from shadow at the same version inside their transactions; the gate holds.
    await seedVerdict(fx.db.pool, { day: daysAgo(1), verdict: 'match', agoHours: 1 });
    const results = await Promise.allSettled([promote(fx.rt, 'orders', why), promote(fx.rt, 'orders', why)]);
    const stages = results.map((r) => (r.status === 'fulfilled' ? `ok ${r.value.to}` : (r.reason as DualrunError).code));
    // Either they overlapped (one conflict), or the second ran after the first and met the next gate.
    expect(stages.sort()).toSatisfy((s: string[]) =>
      JSON.stringify(s) === JSON.stringify(['DUALRUN_CONFLICT', 'ok streaming']) || JSON.stringify(s) === JSON.stringify(['DUALRUN_GATE_REFUSED', 'ok streaming']));
    expect(await readStage(fx.db.pool, 'orders')).toBe('streaming');
  });

  it('the audit cannot be updated, deleted or truncated, and every row names its evidence', async () => {
    for (const sql of ['UPDATE dualrun.cutover_audit SET reason = $$x$$', 'DELETE FROM dualrun.cutover_audit', 'TRUNCATE dualrun.cutover_audit']) {
      await expect(fx.db.pool.query(sql)).rejects.toThrow(/append-only/);
    }
    const history = await readHistory(fx.db.pool, 'orders');
    expect(history.length).toBeGreaterThanOrEqual(7);
    for (const h of history) {
      expect(Array.isArray(h.evidence)).toBe(true);
      if (h.action === 'promote' && h.from === 'shadow' && !h.forced) expect(h.evidence).toHaveLength(3);
    }
    // The evidence ids are real reconciliations.
    const ids = history.flatMap((h) => h.evidence);
    const found = await fx.db.pool.query('SELECT count(*)::int AS n FROM dualrun.reconciliations WHERE id = ANY($1::bigint[])', [ids]);
    expect(found.rows[0].n).toBe(new Set(ids).size);
  });

  it('a dataset without cutover.serve changes stage; applications read the serving table through the API', async () => {
    const c = await promote(fx.rt, 'plain', why);
    expect(c.serving).toBeNull();
    expect(await readServing(fx.rt, 'plain')).toMatchObject({ stage: 'shadow', side: 'batch', table: { sql: '"analytics"."plain_batch"' }, view: null });
  });

  it('a long-running reader makes the change fail clearly after the lock timeout instead of stalling readers', async () => {
    const before = await readServing(fx.rt, 'orders');
    const reader = await fx.db.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM analytics.orders'); // holds the view's lock until COMMIT
      const e = await refusal(rollback(fx.rt, 'orders', { ...why, lockTimeoutMs: 200 }));
      expect(e.code).toBe('DUALRUN_LOCK_TIMEOUT');
      expect(e.exitCode).toBe(3);
      expect(e.message).toContain('nothing was changed');
    } finally {
      await reader.query('COMMIT');
      reader.release();
    }
    expect(await readServing(fx.rt, 'orders')).toMatchObject({ stage: before.stage, version: before.version });
  });

  it('refuses a serving view over an output in another database as a config error, before touching anything', async () => {
    const raw = rawConfig(fx.db.url);
    const orders = (raw.datasets as Record<string, Record<string, unknown>>).orders;
    orders.stream = { ...(orders.stream as object), database: 'postgres://elsewhere.invalid/dw' };
    const rt = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
    const e = await refusal(promote(rt, 'orders', why));
    expect(e.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('datasets.orders.cutover.serve: the serving view analytics.orders lives in the toolkit database');
    await rt.close();
  });

  it('refuses clearly when the stream output cannot stand in for the batch output, leaving everything as it was', async () => {
    const { version } = await readServing(fx.rt, 'orders');
    await rollback(fx.rt, 'orders', { ...why, to: 'shadow' });
    await fx.db.pool.query('ALTER TABLE analytics.orders_batch ADD COLUMN note text');
    const e = await refusal(promote(fx.rt, 'orders', why));
    expect(e.code).toBe('DUALRUN_SERVE_REFUSED');
    expect(e.message).toContain('stream output analytics.orders_stream lacks column(s) note');
    expect(await readServing(fx.rt, 'orders')).toMatchObject({ stage: 'shadow', version: version + 1 });
    await fx.db.pool.query('ALTER TABLE analytics.orders_batch DROP COLUMN note');
  });

  it('re-creates the view when the batch output columns changed (drop + create in the same transaction), keeping its grants', async () => {
    const role = `reader_${fx.db.name}`;
    await fx.db.pool.query(`CREATE ROLE "${role}"`);
    await fx.db.pool.query(`GRANT SELECT ON analytics.orders TO "${role}"`);
    await promote(fx.rt, 'orders', why);
    // While the stream side is served, the batch output is free to change shape.
    await fx.db.pool.query('ALTER TABLE analytics.orders_batch DROP COLUMN amount');
    await rollback(fx.rt, 'orders', why);
    const cols = await fx.db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'orders' ORDER BY ordinal_position`);
    expect(cols.rows.map((r) => r.column_name)).toEqual(['order_id', 'order_date', 'side']);
    expect(await servedSide(fx.db.pool)).toBe('batch');
    const priv = await fx.db.pool.query(`SELECT has_table_privilege($1, 'analytics.orders', 'SELECT') AS ok`, [role]);
    expect(priv.rows[0].ok).toBe(true);
    await fx.db.pool.query(`REVOKE ALL ON analytics.orders FROM "${role}"; DROP ROLE "${role}"`);
  });
});
