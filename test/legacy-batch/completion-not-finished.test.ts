/**
 * `batch.completion` returning a row that says the external job has NOT finished the
 * window (its log row with finished_at NULL, a `done` flag false, or a re-run started
 * beside a finished attempt) adopted the window as complete: rowCount > 0 was read as
 * "finished", so a half-written batch window became settled, then cutover evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../src/core/runtime.ts';
import { parseWindow } from '../../src/core/windows.ts';
import { externalJobFinished } from '../../legacy-batch/adopt.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

let db: TestDatabase;
const runtimes: Runtime[] = [];
beforeAll(async () => {
  db = await createTestDatabase('completion');
  await db.pool.query(`CREATE TABLE public.legacy_batch (id int, day date);
    CREATE TABLE public.etl_log (day date, finished_at timestamptz, done boolean)`);
});
afterAll(async () => { await Promise.all(runtimes.map((r) => r.close())); await db?.drop(); });

function runtime(completion: string): Runtime {
  const rt = createRuntime({ log: pino({ level: 'silent' }), config: compileConfig({
    database: { url: db.url, poolSize: 2 },
    datasets: { legacy: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.legacy_batch', completion, schedule: '*/10 * * * *' },
      stream: { output: 'public.legacy_stream', source: { table: 'public.legacy_src' } } } },
  }, { path: null }) });
  runtimes.push(rt);
  return rt;
}

const w = parseWindow('2026-11-21', 'day');
const where = 'FROM public.etl_log WHERE day >= :window_start AND day < :window_end';
const finished = async (completion: string) => { const rt = runtime(completion); return externalJobFinished(rt, rt.dataset('legacy'), w); };

describe('batch.completion rows that say "not finished"', () => {
  it('a job log row with finished_at NULL, a done flag false, or a re-run beside a finished attempt does not adopt the window; a finished one does', async () => {
    expect(await finished(`SELECT finished_at ${where}`)).toBe(false); // no row yet
    await db.pool.query(`INSERT INTO public.etl_log VALUES ('2026-11-21', NULL, false)`);
    expect(await finished(`SELECT finished_at ${where}`)).toBe(false);
    expect(await finished(`SELECT done ${where}`)).toBe(false);
    await db.pool.query(`UPDATE public.etl_log SET finished_at = now(), done = true`);
    expect(await finished(`SELECT finished_at ${where}`)).toBe(true);
    expect(await finished(`SELECT done ${where}`)).toBe(true);
    expect(await finished(`SELECT 1 ${where}`)).toBe(true);
    // The job is re-running the window: one attempt finished, the newest not.
    await db.pool.query(`INSERT INTO public.etl_log VALUES ('2026-11-21', NULL, false)`);
    expect(await finished(`SELECT finished_at ${where}`)).toBe(false);
  });
});
