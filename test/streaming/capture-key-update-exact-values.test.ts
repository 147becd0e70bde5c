/**
 * Regressions from probing change capture (triggers and logical) as the source:
 *
 * - A primary key update (`UPDATE … SET id = 10 WHERE id = 1`) left the old key's
 *   row in the output (captured as one `u` whose before image has the old key): the
 *   output then had a row the source no longer had. The pipeline now deletes the old key.
 * - Captured numbers travel as JSON numbers (1.50 arrives as 1.5: equal values; see
 *   docs/streaming.md "What both capture kinds deliver"), compared here by value.
 * - Dates and timestamps Postgres writes (BC, years past 9999) were dead letters.
 * - On the jsonb path (tables with array or composite columns) a json/jsonb column
 *   read a string as a JSON string while the unnest path reads it as JSON text.
 *
 * Each is compared with the source column by column (numbers by value, the rest as text).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { ordersStreamDatabase, setStage, writeConfig } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await ordersStreamDatabase('capexact');
});
afterAll(async () => {
  await db?.pool.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`).catch(() => undefined);
  await db?.drop();
});

const COLUMNS = `v text, n numeric, an numeric[], jb jsonb, d date, tz timestamptz, ts timestamp`;

/** Rows of src not in out and of out not in src: numbers by value (they travel as JSON numbers: 1.50 arrives as 1.5), the rest as text. */
async function textDifference(src: string, out: string): Promise<string[]> {
  const cols = `id::text, v, n, an, jb, d::text, tz::text, ts::text`;
  const r = await db.pool.query<{ row: string }>(
    `SELECT 'src ' || r::text AS row FROM ((SELECT ${cols} FROM ${src}) EXCEPT (SELECT ${cols} FROM ${out})) r
     UNION ALL SELECT 'out ' || r::text FROM ((SELECT ${cols} FROM ${out}) EXCEPT (SELECT ${cols} FROM ${src})) r ORDER BY 1`);
  return r.rows.map((x) => x.row);
}

describe.each(['trigger', 'logical'] as const)('capture: %s', (capture) => {
  it('a key update moves the row, and numbers (by value), BC dates and jsonb values arrive as Postgres held them', { timeout: 120_000 }, async () => {
    const src = `public.exact_${capture}`;
    const out = `analytics.exact_${capture}_out`;
    const dataset = `exact_${capture}`;
    await db.pool.query(`SET timezone = 'UTC'`);
    await db.pool.query(`CREATE TABLE ${src} (id int PRIMARY KEY, ${COLUMNS})`);
    await db.pool.query(`CREATE TABLE ${out} (id int PRIMARY KEY, ${COLUMNS})`);
    await db.pool.query(`INSERT INTO ${src} (id, v, n) VALUES (100, 'snap', 1.50), (101, 'snap-moved', 2.000)`);
    await setStage(db.pool, dataset, 'shadow');
    const { file, dir } = writeConfig({
      database: { url: db.url },
      datasets: { [dataset]: { key: ['id'], batch: { output: `${out}_batch` }, stream: { output: out, source: { table: src, capture } } } },
    });
    const cap = await runCli(['--config', file, 'capture'], { cwd: dir });
    expect(cap.code, cap.stderr).toBe(0);
    await db.pool.query(`INSERT INTO ${src} VALUES
      (1, 'a', 1.50, '{1.50,2.000,NULL,12345678901234567890.10}', '{"a": 1.50, "b": [0.0, 1e-7]}', '0044-03-15 BC', '0044-03-15 12:00:00.5+00 BC', '294276-12-31 23:59:59.999999'),
      (2, 'b', 0.0, '{}', '1.0', '5874897-12-31', '2026-01-01 00:00:00+05:30', '0001-01-01 00:00 BC'),
      (3, 'c', -0.000, NULL, '[1.10]', '2000-02-29', NULL, NULL)`);
    await db.pool.query(`UPDATE ${src} SET id = 10 WHERE id = 1`);
    await db.pool.query(`UPDATE ${src} SET id = 11, v = 'moved' WHERE id = 101`);
    await db.pool.query(`BEGIN; INSERT INTO ${src} (id, v) VALUES (4, 'x'); UPDATE ${src} SET id = 5 WHERE id = 4; UPDATE ${src} SET id = 6 WHERE id = 5; COMMIT`);
    await db.pool.query(`UPDATE ${src} SET id = id + 1000 WHERE id IN (2, 3)`);
    const r = await runCli(['--config', file, 'stream', '--until-idle', '--format', 'json'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).datasets[0]).toMatchObject({ deadLettered: 0 });
    expect(await textDifference(src, out)).toEqual([]);
    const ids = await db.pool.query<{ id: number }>(`SELECT id FROM ${out} ORDER BY id`);
    expect(ids.rows.map((x) => x.id)).toEqual([6, 10, 11, 100, 1002, 1003]);
  });
});
