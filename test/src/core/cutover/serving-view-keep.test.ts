/**
 * What the serving view is besides its query survives every switch: its options
 * (security_invoker, security_barrier), its owner, and its table and column grants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, rollback } from '../../../../src/core/cutover/stage-change.ts';
import { DualrunError } from '../../../../src/core/errors.ts';
import { createFixture, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let reader: string;
let owner: string;
beforeAll(async () => {
  fx = await createFixture();
  reader = `reader_${fx.db.name}`;
  owner = `owner_${fx.db.name}`;
  await fx.db.pool.query(`CREATE ROLE "${reader}"; CREATE ROLE "${owner}";
    GRANT USAGE ON SCHEMA analytics TO "${reader}"; GRANT ALL ON SCHEMA analytics TO "${owner}";
    GRANT SELECT ON analytics.orders_batch, analytics.orders_stream TO "${reader}", "${owner}";
    -- Row-level security on both outputs: the reader may see orders 1-3 only.
    ALTER TABLE analytics.orders_batch ENABLE ROW LEVEL SECURITY; ALTER TABLE analytics.orders_stream ENABLE ROW LEVEL SECURITY;
    CREATE POLICY few ON analytics.orders_batch FOR SELECT TO "${reader}" USING (order_id <= 3);
    CREATE POLICY few ON analytics.orders_stream FOR SELECT TO "${reader}" USING (order_id <= 3);`);
});
afterAll(async () => {
  await fx?.db.pool.query(`DROP OWNED BY "${reader}", "${owner}"; DROP ROLE "${reader}"; DROP ROLE "${owner}"`).catch(() => undefined);
  await fx?.cleanup();
});

const why = { reason: 'test', actor: 'tester', force: true };

/** What the reader sees through the serving view, as the reader. */
async function readerSees(sql: string): Promise<number | string> {
  const c = await fx.db.pool.connect();
  try {
    await c.query(`SET ROLE "${reader}"`);
    return (await c.query<{ n: number }>(sql)).rows[0].n;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    await c.query('RESET ROLE').catch(() => undefined);
    c.release();
  }
}

async function viewFacts(): Promise<{ options: string[] | null; owner: string }> {
  const r = await fx.db.pool.query(`SELECT reloptions AS options, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'analytics.orders'::regclass`);
  return r.rows[0];
}

describe('the serving view keeps what it is across switches', () => {
  it('a security_invoker view stays one at a switch (CREATE OR REPLACE VIEW reset its options: readers bypassed the outputs\' row-level security)', async () => {
    await promote(fx.rt, 'orders', why); // batch → shadow: the view appears
    await fx.db.pool.query(`ALTER VIEW analytics.orders SET (security_invoker = true, security_barrier = true);
      GRANT SELECT ON analytics.orders TO "${reader}"; ALTER VIEW analytics.orders OWNER TO "${owner}"`);
    expect(await readerSees('SELECT count(*)::int AS n FROM analytics.orders')).toBe(3);
    await promote(fx.rt, 'orders', why); // shadow → streaming: CREATE OR REPLACE onto the stream output
    expect(await viewFacts()).toEqual({ options: ['security_invoker=true', 'security_barrier=true'], owner });
    expect(await readerSees('SELECT count(*)::int AS n FROM analytics.orders')).toBe(3);
  });

  it('re-created for a changed batch output, the view keeps its owner, options and column grants (a reader granted columns lost them; dualrun\'s role became the owner)', async () => {
    await fx.db.pool.query(`REVOKE SELECT ON analytics.orders FROM "${reader}"; GRANT SELECT (order_id, side) ON analytics.orders TO "${reader}"`);
    expect(await readerSees('SELECT count(order_id)::int AS n FROM analytics.orders')).toBe(3);
    await fx.db.pool.query('ALTER TABLE analytics.orders_batch DROP COLUMN amount');
    await rollback(fx.rt, 'orders', why); // streaming → shadow: DROP + CREATE (the batch columns changed)
    const cols = await fx.db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'orders' ORDER BY ordinal_position`);
    expect(cols.rows.map((r) => r.column_name)).toEqual(['order_id', 'order_date', 'side']);
    expect(await viewFacts()).toEqual({ options: ['security_invoker=true', 'security_barrier=true'], owner });
    expect(await readerSees('SELECT count(order_id)::int AS n FROM analytics.orders')).toBe(3);
    expect(await readerSees('SELECT count(order_date)::int AS n FROM analytics.orders')).toBe('42501');
  });

  it('a view with a trigger is not dropped and re-created (the trigger would be lost): refused, nothing changed', async () => {
    await promote(fx.rt, 'orders', why); // shadow → streaming: the batch output is free to change shape
    await fx.db.pool.query(`CREATE FUNCTION analytics.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
      CREATE TRIGGER keep_me INSTEAD OF INSERT ON analytics.orders FOR EACH ROW EXECUTE FUNCTION analytics.noop();
      ALTER TABLE analytics.orders_batch DROP COLUMN side`);
    const e = await rollback(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(DualrunError);
    expect((e as DualrunError).code).toBe('DUALRUN_SERVE_REFUSED');
    expect((e as DualrunError).message).toContain('trigger keep_me');
    const t = await fx.db.pool.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'analytics.orders'::regclass AND tgname = 'keep_me'`);
    expect(t.rows[0].n).toBe(1);
  });
});

describe('readers of a security_invoker view', () => {
  it('a switch that would lock a reader out (security_invoker, no SELECT on the new side) is refused and changes nothing; a rollback says so instead (readers lost the view at the flip)', async () => {
    const f = await createFixture();
    const role = `batchonly_${f.db.name}`;
    try {
      await promote(f.rt, 'orders', why); // batch → shadow
      await f.db.pool.query(`CREATE ROLE "${role}"; GRANT USAGE ON SCHEMA analytics TO "${role}"; GRANT SELECT ON analytics.orders_batch TO "${role}";
        GRANT SELECT ON analytics.orders TO "${role}"; ALTER VIEW analytics.orders SET (security_invoker = on)`);
      const e = await promote(f.rt, 'orders', why).then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(DualrunError);
      expect((e as DualrunError).code).toBe('DUALRUN_SERVE_REFUSED');
      expect((e as DualrunError).message).toContain(`need SELECT on analytics.orders_stream, which ${role} lack(s)`);
      const stage = await f.db.pool.query(`SELECT stage FROM dualrun.stages WHERE dataset = 'orders'`);
      expect(stage.rows[0].stage).toBe('shadow');

      await f.db.pool.query(`GRANT SELECT ON analytics.orders_stream TO "${role}"`);
      await promote(f.rt, 'orders', why); // shadow → streaming
      const c = await f.db.pool.connect();
      try {
        await c.query(`SET ROLE "${role}"`);
        expect((await c.query('SELECT count(*)::int AS n FROM analytics.orders')).rows[0].n).toBe(7);
      } finally {
        await c.query('RESET ROLE');
        c.release();
      }
      // Rolling back is never refused; it names the readers it locks out.
      await f.db.pool.query(`REVOKE SELECT ON analytics.orders_batch FROM "${role}"`);
      const back = await rollback(f.rt, 'orders', why);
      expect(back).toMatchObject({ to: 'shadow', serving: 'analytics.orders_batch' });
      expect(back.warnings.join('\n')).toContain(`need SELECT on analytics.orders_batch, which ${role} lack(s)`);
    } finally {
      await f.db.pool.query(`DROP OWNED BY "${role}"; DROP ROLE "${role}"`).catch(() => undefined);
      await f.cleanup();
    }
  });
});
