/**
 * `dualrun schedule` is long-running too: a Postgres restart between jobs is logged
 * and ridden out (the process stays up, no raw stack), and a Postgres that stays
 * away past database.reconnect.maxWait ends it with exit 3 naming the database.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../src/core/db/migrate.ts';
import { writeConfig } from '../streaming/support.ts';
import { expectNoRawStack, ownPostgres, sleep, startCli, until, type OwnPostgres } from './fault-support.ts';

let pg: OwnPostgres;
beforeAll(async () => { pg = await ownPostgres(); await migrate(pg.pool); });
afterAll(async () => { await pg?.release(); });

it('schedule rides out a Postgres restart and exits 3 naming the database when it stays away', { timeout: 180_000 }, async () => {
  const { file, dir } = writeConfig({
    database: { url: pg.url, reconnect: { maxWait: '15s' } },
    report: { schedule: '0 0 1 1 *' }, // a job that never fires during the test
    datasets: {},
  });
  const w = startCli(['--config', file, 'schedule'], dir, { DUALRUN_LOG_LEVEL: 'info' });
  await until('the scheduler runs', async () => /scheduler running/.test(w.stderr()), 60_000, 200, w);
  await pg.restartFast();
  await sleep(6000); // at least one ping on the restarted server
  expect(w.child.exitCode, w.stderr().slice(-2000)).toBe(null);
  await pg.stopImmediate();
  await sleep(8000); // longer than the ping interval: the outage is noticed
  await pg.start();
  await until('the outage noticed and ridden out', async () => /Postgres is back: resumed/.test(w.stderr()), 30_000, 200, w);
  expect(w.child.exitCode).toBe(null);
  expect(w.stderr()).toMatch(/Postgres lost .*reconnecting/);

  const stoppedAt = Date.now();
  await pg.stopImmediate();
  const end = await Promise.race([w.exited(), sleep(60_000).then(() => null)]);
  const took = Date.now() - stoppedAt;
  await pg.start();
  expect(end, w.stderr().slice(-2000)).not.toBe(null);
  expect(end!.code).toBe(3);
  expect(took).toBeLessThan(40_000);
  expect(w.stderr()).toMatch(/dualrun: DUALRUN_DB_UNREACHABLE: schedule: gave up after \d+ s without Postgres at 127\.0\.0\.1:\d+ \(database postgres/);
  expect(w.stderr()).not.toContain(decodeURIComponent(new URL(pg.url).password));
  expectNoRawStack(w.stderr());
});
