/**
 * Regression: `dead-letters list` and `show` printed record keys, reasons and
 * UTF-8 payloads raw, so a dead letter whose key or reason held ESC sequences
 * (`\x1b[2J`) cleared or recoloured the operator's terminal, and a newline in a
 * key broke the table into extra rows. Text output now shows control characters
 * escaped; `--format json` keeps the exact values.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { setupToolkit, writeConfig } from '../../../streaming/support.ts';

let db: TestDatabase;
let file: string;
let dir: string;
let id: string;

beforeAll(async () => {
  db = await createTestDatabase('dl_terminal');
  await setupToolkit(db.pool);
  await db.pool.query('CREATE TABLE public.src (id bigint PRIMARY KEY, v text); CREATE TABLE public.out_b (id bigint, v text); CREATE TABLE public.out_s (id bigint PRIMARY KEY, v text)');
  ({ file, dir } = writeConfig({
    database: { url: db.url },
    datasets: { t: { key: ['id'], batch: { output: 'public.out_b' }, stream: { output: 'public.out_s', source: { table: 'public.src' } } } },
  }));
  const r = await db.pool.query<{ id: string }>(
    `INSERT INTO dualrun.dead_letters (dataset, source, partition, position, record_key, payload, stage, reason)
     VALUES ('t', 'changelog:public.src', 0, 7, E'k\\x1b[31mRED\\n2', convert_to(E'{"a":"\\x1b]0;owned\\x07"}', 'UTF8'), 'decode', E'bad \\x1b[2J here\\nline2 \\u202e') RETURNING id::text`);
  id = r.rows[0].id;
});
afterAll(async () => { await db?.drop(); });

it('regression: dead-letters list and show no longer write control characters from a dead letter to the terminal', async () => {
  const list = await runCli(['--config', file, 'dead-letters', 'list', 't'], { cwd: dir });
  expect(list.code, list.stderr).toBe(0);
  const show = await runCli(['--config', file, 'dead-letters', 'show', 't', id], { cwd: dir });
  expect(show.code, show.stderr).toBe(0);
  for (const text of [list.stdout, show.stdout]) {
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain('k\\x1b[31mRED\\n2');
    expect(text).toContain('bad \\x1b[2J here\\nline2 \\u202e');
  }
  // One table row per dead letter: header + one line.
  expect(list.stdout.trimEnd().split('\n')).toHaveLength(2);
  expect(show.stdout).toContain('payload (utf8): {"a":"\\x1b]0;owned\\x07"}');

  const asJson = await runCli(['--config', file, 'dead-letters', 'show', 't', id, '--format', 'json'], { cwd: dir });
  const d = JSON.parse(asJson.stdout);
  expect(d.recordKey).toBe('k\u001b[31mRED\n2');
  expect(d.reason).toBe('bad \u001b[2J here\nline2 \u202e');
});
