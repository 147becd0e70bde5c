/**
 * A user's COMMENT on the serving view (what readers see in `\d+` and catalog tools) was
 * dualrun's business: dualrun recognised its views by a comment starting "managed by dualrun",
 * so the user's own comment made the next flip refuse the view as one dualrun did not create,
 * and every flip wrote its marker over the comment. Ownership is now recorded in
 * dualrun.serving_views (the view's oid); the user's comment is kept across flips, also
 * across a DROP + CREATE, and a view dualrun did not create is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, rollback } from '../../../../src/core/cutover/stage-change.ts';
import { DualrunError } from '../../../../src/core/errors.ts';
import { createFixture, servedSide, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

const why = { reason: 'test', actor: 'tester', force: true };
const USER = 'Orders for the BI team: one row per order, amounts in EUR. Ask #data-eng.';

async function comment(): Promise<string | null> {
  return (await fx.db.pool.query<{ c: string | null }>(`SELECT obj_description('analytics.orders'::regclass, 'pg_class') AS c`)).rows[0].c;
}

describe("the serving view keeps its user's comment", () => {
  it('without a user comment, dualrun says what the view serves', async () => {
    await promote(fx.rt, 'orders', why); // batch → shadow: the view appears
    expect(await comment()).toMatch(/^managed by dualrun \(dataset orders\): /);
  });

  it('a comment the user set survives a flip, and the flip happens (it was refused, or overwritten)', async () => {
    await fx.db.pool.query(`COMMENT ON VIEW analytics.orders IS '${USER}'`);
    await promote(fx.rt, 'orders', why); // shadow → streaming
    expect(await servedSide(fx.db.pool)).toBe('stream');
    expect(await comment()).toBe(USER);
    await rollback(fx.rt, 'orders', { ...why, to: 'shadow' });
    expect(await servedSide(fx.db.pool)).toBe('batch');
    expect(await comment()).toBe(USER);
  });

  it('it survives the DROP + CREATE of a changed batch output too', async () => {
    await promote(fx.rt, 'orders', why); // shadow → streaming
    await fx.db.pool.query('ALTER TABLE analytics.orders_batch DROP COLUMN amount');
    await rollback(fx.rt, 'orders', { ...why, to: 'shadow' }); // the view's columns change: re-created
    expect(await servedSide(fx.db.pool)).toBe('batch');
    expect(await comment()).toBe(USER);
  });

  it('a view made before dualrun.serving_views (known by its comment only) still flips, and is recorded', async () => {
    await fx.db.pool.query(`DELETE FROM dualrun.serving_views; COMMENT ON VIEW analytics.orders IS 'managed by dualrun (dataset orders): shadow'`);
    await promote(fx.rt, 'orders', why); // shadow → streaming
    expect(await servedSide(fx.db.pool)).toBe('stream');
    const r = await fx.db.pool.query(`SELECT dataset FROM dualrun.serving_views WHERE view_oid = 'analytics.orders'::regclass::oid`);
    expect(r.rows).toEqual([{ dataset: 'orders' }]);
  });

  it('a view of the same name that dualrun did not create is still refused, whatever its comment', async () => {
    await fx.db.pool.query(`DROP VIEW analytics.orders; CREATE VIEW analytics.orders AS SELECT 1 AS one;
      COMMENT ON VIEW analytics.orders IS 'managed by dualrun (dataset orders): hand-made'`);
    const e = await promote(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(DualrunError);
    expect((e as DualrunError).message).toMatch(/existing view that dualrun did not create/);
    expect((await fx.db.pool.query('SELECT one FROM analytics.orders')).rows).toEqual([{ one: 1 }]);
  });
});
