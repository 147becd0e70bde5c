/**
 * A transaction whose connection was terminated while idle between statements (another
 * session's pg_terminate_backend, a failover) failed its next statement with pg's "Client has
 * encountered a connection error and is not queryable": the batch ledger then recorded that text
 * with no error code, and the server's 57P01 ("terminating connection due to administrator
 * command") was dropped by the client's error listener. It is now the error's cause.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { createPool, inTransaction, type Pool } from '../../../../src/core/db/connect.ts';
import { ledgerError } from '../../../../legacy-batch/run-ledger.ts';

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => { db = await createTestDatabase('lostcode'); pool = createPool(db.url, { max: 2 }); });
afterAll(async () => { await pool?.end(); await db?.drop(); });

it("a statement after the connection was terminated records the server's 57P01, not a message without a code", async () => {
  const failure = await inTransaction(pool, async (c) => {
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    // The FATAL arrives as the client's 'error' event while it is idle.
    for (let i = 0; i < 50 && (await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    await c.query('SELECT 1');
  }).then(() => null, (e: unknown) => e);
  expect((failure as Error).message).toMatch(/not queryable/);
  expect(ledgerError(failure)).toMatchObject({ code: '57P01', message: expect.stringMatching(/terminating connection due to administrator command/) });
});
