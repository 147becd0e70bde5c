/**
 * The CLI as cron and a terminal see it (real CLI in a child process, real
 * Postgres): complete stdout through pipes, exact 64-bit keys in every format
 * and in the stored result, samples in key order, validated --format and
 * --log-level, one-line errors (stacks at debug), SIGTERM within 5 s with a
 * resume command for an interrupted backfill.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { BIN, runCli } from '../../support/cli.ts';
import { parseExactJson } from '../../../src/core/exact-json.ts';
import { migrate } from '../../../src/core/db/migrate.ts';
import { buildProgram, loadCommands } from '../../../src/app/cli.ts';
import type { Command } from 'commander';

const SNOW = 1234567890123456789n; // above 2^53: a float64 turns it into ...768

const SETUP = `
CREATE SCHEMA s;
CREATE TABLE s.ev_batch (id int8 PRIMARY KEY, v int, note text);
CREATE TABLE s.ev_stream (id int8 PRIMARY KEY, v int, note text);
INSERT INTO s.ev_batch SELECT ${SNOW} + g * 7, g, 'note ' || g FROM generate_series(0, 29999) g;
INSERT INTO s.ev_stream SELECT id, v + 1, note FROM s.ev_batch;
CREATE TABLE s.small_batch (id int PRIMARY KEY);
CREATE TABLE s.small_stream (id int PRIMARY KEY);
INSERT INTO s.small_batch VALUES (9), (10), (100), (2), (1000);
CREATE TABLE s.pair_batch (a int, b text, PRIMARY KEY (a, b));
CREATE TABLE s.pair_stream (a int, b text, PRIMARY KEY (a, b));
INSERT INTO s.pair_batch VALUES (10, 'a'), (2, 'b'), (2, 'a'), (9, 'z');
CREATE VIEW s.stuck_batch AS SELECT id FROM s.small_batch, pg_sleep(30);
CREATE TABLE s.stuck_stream (id int PRIMARY KEY);
CREATE TABLE public.events (id bigint PRIMARY KEY, day date NOT NULL);
CREATE TABLE public.events_batch (id bigint PRIMARY KEY, day date NOT NULL);
INSERT INTO public.events SELECT g, DATE '2026-11-01' + (g % 6) FROM generate_series(1, 60) g;
CREATE TABLE s.days_batch (id int PRIMARY KEY, v int, day date NOT NULL);
CREATE TABLE s.days_stream (id int PRIMARY KEY, v int, day date NOT NULL);
INSERT INTO s.days_batch SELECT g, g, DATE '2026-10-01' + (g % 20) FROM generate_series(1, 400) g;
INSERT INTO s.days_stream SELECT id, v + 1, day FROM s.days_batch;
`;

let db: TestDatabase;
let dir: string;

const config = (url: string) => JSON.stringify({
  database: { url },
  datasets: {
    ev: { key: ['id'], batch: { output: 's.ev_batch' }, stream: { output: 's.ev_stream', source: { topic: 't.ev', format: 'json' } } },
    small: { key: ['id'], batch: { output: 's.small_batch' }, stream: { output: 's.small_stream', source: { topic: 't.small', format: 'json' } } },
    stuck: { key: ['id'], batch: { output: 's.stuck_batch' }, stream: { output: 's.stuck_stream', source: { topic: 't.stuck', format: 'json' } } },
    pair: { key: ['a', 'b'], batch: { output: 's.pair_batch' }, stream: { output: 's.pair_stream', source: { topic: 't.pair', format: 'json' } } },
    days: { key: ['id'], window: { column: 'day', grain: 'day' }, batch: { output: 's.days_batch' }, stream: { output: 's.days_stream', source: { topic: 't.days', format: 'json' } } },
    slow: {
      key: ['id'], window: { column: 'day', grain: 'day' },
      batch: { output: 'public.events_batch', query: 'sql/slow.sql' },
      stream: { output: 'public.events_stream', source: { table: 'public.events' } },
    },
  },
}, null, 2);

const cli = (args: string[], env: Record<string, string | undefined> = {}) => runCli(['--config', path.join(dir, 'dualrun.yaml'), ...args], { cwd: dir, env });

beforeAll(async () => {
  db = await createTestDatabase('cli');
  await db.pool.query(SETUP);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-cli-'));
  fs.mkdirSync(path.join(dir, 'sql'));
  // 1.5 s per window: long enough to be interrupted in the middle of a backfill.
  fs.writeFileSync(path.join(dir, 'sql', 'slow.sql'), 'SELECT id, day FROM public.events, pg_sleep(1.5) WHERE day >= :window_start AND day < :window_end');
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), config(db.url));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('stdout and exact keys', () => {
  it('JSON over 1 MB piped into python3 -m json.tool parses whole (it used to be cut at 65,536 bytes)', async () => {
    const cmd = `"${process.execPath}" "${BIN}" --config "${path.join(dir, 'dualrun.yaml')}" reconcile ev --format json --samples 20000 --assume-settled | tee "${path.join(dir, 'out.json')}" | python3 -m json.tool > /dev/null; echo "exit \${PIPESTATUS[0]} \${PIPESTATUS[2]}"`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    // dualrun exits 1 (mismatch); python3 -m json.tool exits 0: the whole document parsed.
    expect(r.stdout.trim()).toBe('exit 1 0');
    const text = fs.readFileSync(path.join(dir, 'out.json'), 'utf8');
    expect(text.length).toBeGreaterThan(1_000_000);
    const o = parseExactJson(text) as { diff: { samples: { key: { id: bigint } }[] } };
    expect(o.diff.samples).toHaveLength(20000);
    expect(o.diff.samples[19999].key.id).toBe(SNOW + 19999n * 7n);
  });

  it('a reader that goes away (| head) no longer ends the command with exit 0: every window is judged and stored, a mismatch still exits 1', async () => {
    const child = spawn(process.execPath, [BIN, '--config', path.join(dir, 'dualrun.yaml'), 'reconcile', 'days', '--from', '2026-10-01', '--to', '2026-10-20', '--assume-settled'],
      { cwd: dir, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // As `| head -c 10`: read the first chunk (the first window's lines), then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(1);
    const stored = await db.pool.query(`SELECT count(DISTINCT window_start)::int AS n FROM dualrun.reconciliations WHERE dataset = 'days' AND verdict = 'mismatch'`);
    expect(stored.rows[0].n).toBe(20);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('snowflake ids above 2^53 are exact in json, text, md and the stored result (they came out as neighbouring ids)', async () => {
    const j = await cli(['reconcile', 'ev', '--format', 'json', '--samples', '3', '--assume-settled']);
    expect(j.code).toBe(1);
    expect(j.stdout).toContain(`"id": ${SNOW}`);
    const o = parseExactJson(j.stdout) as { diff: { samples: { key: { id: bigint } }[] }; id: number };
    expect(o.diff.samples.map((s) => s.key.id)).toEqual([SNOW, SNOW + 7n, SNOW + 14n]);
    const text = await cli(['reconcile', 'ev', '--samples', '1', '--assume-settled']);
    expect(text.stdout).toContain(`id=${SNOW}`);
    const md = await cli(['reconcile', 'ev', '--format', 'md', '--samples', '1', '--assume-settled']);
    expect(md.stdout).toContain(`id=${SNOW}`);
    const stored = await db.pool.query(`SELECT result->'diff'->'samples'->0->'key'->>'id' AS id FROM dualrun.reconciliations WHERE id = $1`, [o.id]);
    expect(stored.rows[0].id).toBe(String(SNOW));
    expect(`${text.stdout}${md.stdout}`).not.toContain('1234567890123456768');
  });

  it('samples sort by key value, not text: 2, 9, 10, 100, 1000; composite keys column by column', async () => {
    const r = await cli(['reconcile', 'small', '--format', 'json', '--assume-settled']);
    expect(JSON.parse(r.stdout).diff.samples.map((s: { key: { id: number } }) => s.key.id)).toEqual([2, 9, 10, 100, 1000]);
    const p = await cli(['reconcile', 'pair', '--format', 'json', '--assume-settled']);
    expect(JSON.parse(p.stdout).diff.samples.map((s: { key: unknown }) => s.key)).toEqual([
      { a: 2, b: 'a' }, { a: 2, b: 'b' }, { a: 9, b: 'z' }, { a: 10, b: 'a' },
    ]);
  });
});

describe('options and errors', () => {
  it('every command that has --format names its allowed values, and a wrong one exits 2 listing them', async () => {
    await loadCommands();
    const withFormat: string[] = [];
    const walk = (c: Command, p: string) => {
      const f = c.options.find((o) => o.long === '--format');
      if (f) { withFormat.push(p); expect(f.argChoices, `${p} --format`).toBeTruthy(); }
      c.commands.forEach((s) => walk(s, `${p} ${s.name()}`.trim()));
    };
    walk(buildProgram(), '');
    expect(withFormat).toEqual(expect.arrayContaining(['reconcile', 'datasets', 'report', 'cutover status', 'batch run']));
    for (const args of [['reconcile', 'ev', '--format', 'yaml'], ['datasets', '--format', 'xml'], ['report', '--format', 'text']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/argument '.*' is invalid\. Allowed choices are [a-z]+(, [a-z]+)+\./);
    }
  });

  it('with --format json a usage error is JSON on stdout too (a missing --reason or an unknown option printed only text, so a script parsed nothing)', async () => {
    for (const args of [['cutover', 'promote', 'ev', '--format', 'json'], ['datasets', '--formt', 'x', '--format=json'], ['reconcile', '--format', 'json']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), args.join(' ')).toMatchObject({ error: { code: 'DUALRUN_USAGE', retryable: false, message: expect.any(String) } });
      expect(r.stderr).toMatch(/^error: /);
    }
    expect(JSON.parse((await cli(['cutover', 'promote', 'ev', '--format', 'json'])).stdout).error.message).toBe("required option '--reason <text>' not specified");
    // Text stays text.
    expect((await cli(['cutover', 'promote', 'ev'])).stdout).toBe('');
  });

  it('--log-level and DUALRUN_LOG_LEVEL are validated (exit 2 listing the levels)', async () => {
    const flag = await cli(['--log-level', 'loud', 'datasets']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Allowed choices are fatal, error, warn, info, debug, trace, silent/);
    const env = await cli(['datasets'], { DUALRUN_LOG_LEVEL: 'verbose' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/DUALRUN_LOG_LEVEL "verbose" is invalid/);
  });

  it('an unreachable dataset database names its config key (datasets.far.batch.database), never its password, in output and stored results', async () => {
    const port = await closedPort();
    const file = path.join(dir, 'far.json');
    fs.writeFileSync(file, JSON.stringify({
      database: { url: db.url },
      datasets: { far: { key: ['id'], batch: { output: 's.small_batch', database: `postgres://etl:FarSecret-77@127.0.0.1:${port}/dw` }, stream: { output: 's.small_stream', source: { topic: 't.far', format: 'json' } } } },
    }));
    const r = await runCli(['--config', file, 'reconcile', 'far', '--format', 'json', '--assume-settled'], { cwd: dir });
    expect(r.code).toBe(3);
    const o = JSON.parse(r.stdout) as { verdict: string; error: { code: string; message: string } };
    expect(o.verdict).toBe('error');
    expect(o.error.code).toBe('DUALRUN_DB_UNREACHABLE');
    expect(o.error.message).toContain(`Postgres (datasets.far.batch.database) at 127.0.0.1:${port}`);
    expect(r.stdout + r.stderr).not.toContain('FarSecret-77');
    const stored = await db.pool.query(`SELECT count(*)::int AS n, bool_or(r::text LIKE '%FarSecret-77%') AS leaked FROM dualrun.reconcile_errors r WHERE dataset = 'far'`);
    expect(stored.rows[0]).toEqual({ n: 1, leaked: false });
  });

  it('datasets reads watermark and open dead letters from stream.database (it showed 0 dead letters and no watermark); an unreadable one is null with the error, exit 3', async () => {
    const other = await createTestDatabase('clisd');
    try {
      await migrate(other.pool);
      await other.pool.query(`CREATE SCHEMA a; CREATE TABLE a.sd_stream (id int PRIMARY KEY);
        INSERT INTO dualrun.dead_letters (dataset, source, partition, position, stage, reason) SELECT 'sd', 't.sd', 0, g, 'validate', 'bad' FROM generate_series(1, 3) g;
        INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('sd', '2026-11-20T00:00:00Z')`);
      const write = (streamUrl: string) => {
        const file = path.join(dir, 'sd.json');
        fs.writeFileSync(file, JSON.stringify({
          database: { url: db.url },
          datasets: { sd: { key: ['id'], batch: { output: 's.small_batch' }, stream: { output: 'a.sd_stream', database: streamUrl, source: { topic: 't.sd', format: 'json' } } } },
        }));
        return file;
      };
      const ok = await runCli(['--config', write(other.url), 'datasets', '--format', 'json'], { cwd: dir });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)[0].stream).toMatchObject({ watermark: '2026-11-20T00:00:00.000Z', deadLetters: 3 });
      const port = await closedPort();
      const bad = await runCli(['--config', write(`postgres://etl:SdSecret-5@127.0.0.1:${port}/dw`), 'datasets', '--format', 'json'], { cwd: dir });
      expect(bad.code).toBe(3);
      const st = JSON.parse(bad.stdout)[0].stream;
      expect(st).toMatchObject({ watermark: null, lagSeconds: null, deadLetters: null });
      expect(st.error).toContain('datasets.sd.stream.database');
      expect(bad.stdout + bad.stderr).not.toContain('SdSecret-5');
    } finally {
      await other.drop();
    }
  });

  it('an unhandled rejection in a user transform exits 3 with one line and JSON on stdout (Node dumped its stack and exited 1, the code for a mismatch)', async () => {
    await db.pool.query('CREATE TABLE IF NOT EXISTS public.leaky_out (id bigint PRIMARY KEY, day date NOT NULL)');
    fs.writeFileSync(path.join(dir, 'leaky.mjs'), "export default function (row) { Promise.reject(new Error('forgotten promise')); return row; }\n");
    fs.writeFileSync(path.join(dir, 'sql', 'leaky.sql'), 'SELECT id, day FROM public.events WHERE day >= :window_start AND day < :window_end');
    const file = path.join(dir, 'leaky.json');
    fs.writeFileSync(file, JSON.stringify({
      database: { url: db.url },
      datasets: { leaky: { key: ['id'], window: { column: 'day', grain: 'day' }, batch: { output: 'public.leaky_out', query: 'sql/leaky.sql', transform: 'leaky.mjs' }, stream: { output: 'public.leaky_stream', source: { topic: 't.leaky', format: 'json' } } } },
    }));
    const r = await runCli(['--config', file, 'batch', 'run', 'leaky', '--window', '2026-11-02', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(3);
    const e = JSON.parse(r.stdout).error;
    expect(e.code).toBe('DUALRUN_INTERNAL');
    expect(e.message).toContain('forgotten promise');
    expect(r.stderr).toContain('dualrun: DUALRUN_INTERNAL: unhandled error');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.match(/DUALRUN_INTERNAL/g)).toHaveLength(1);
  });

  it('a failure is one clear line; the stack trace only at --log-level debug', async () => {
    const url = 'postgres://u:hunter2@127.0.0.1:1/x';
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-cli-empty-'));
    fs.writeFileSync(path.join(empty, 'dualrun.yaml'), 'database:\n  url: ${DATABASE_URL}\ndatasets: {}\n');
    const plain = await runCli(['datasets'], { cwd: empty, env: { DATABASE_URL: url, DUALRUN_CONFIG: undefined } });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/^dualrun: DUALRUN_DB_UNREACHABLE: /m);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    const debug = await runCli(['--log-level', 'debug', 'datasets'], { cwd: empty, env: { DATABASE_URL: url, DUALRUN_CONFIG: undefined } });
    fs.rmSync(empty, { recursive: true, force: true });
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/^\s+at /m);
    expect(`${plain.stderr}${debug.stderr}`).not.toContain('hunter2');
  });
});

describe('signals', () => {
  it('SIGTERM stops a backfill within 5 s, exits 143 (it exited 3, as if a window had failed) and prints the command that resumes it', async () => {
    const args = ['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'slow', '--from', '2026-11-01', '--to', '2026-11-06'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const firstLine = new Promise<void>((resolve) => child.stdout.on('data', (d) => { stdout += d; if (stdout.includes('\n')) resolve(); }));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await firstLine; // per-window results print as each window finishes
    expect(stdout).toMatch(/^slow 2026-11-01: succeeded/);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await closed;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(code, stderr).toBe(143);
    const resume = /resume with:\n\s+(dualrun .+)\n/.exec(stderr)?.[1];
    expect(resume, stderr).toMatch(/^dualrun --config \S+ batch run slow --from 2026-11-0[2-6] --to 2026-11-06$/);
    const again = await runCli(resume!.split(' ').slice(1), { cwd: dir, timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    const loaded = await db.pool.query(`SELECT count(DISTINCT day)::int AS days FROM public.events_batch`);
    expect(loaded.rows[0].days).toBe(6);
  });

  it('on a terminal: readable logs and per-window lines above the progress bar, never JSON log lines through it', () => {
    const cmd = `"${process.execPath}" "${BIN}" --config "${path.join(dir, 'dualrun.yaml')}" --log-level info batch run slow --from 2026-11-01 --to 2026-11-02 --rerun`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm' }, timeout: 60_000 });
    expect(r.status, r.stdout).toBe(0);
    // eslint-disable-next-line no-control-regex
    const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(screen).toMatch(/slow 2026-11-01: succeeded/);
    expect(screen).toMatch(/slow 2026-11-02: succeeded/);
    expect(screen).toMatch(/backfill \[.*\] \d\/2 windows/);
    expect(screen).toMatch(/INFO.*: /);
    expect(screen).not.toMatch(/\{"level":/);
  });

  it('SIGTERM stops a command stuck in a long query within 5 s (exit 143), not when the query ends', async () => {
    const run = await stuckReconcile([]);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.closed, run.stderr()).toBe(143);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('with --format json a command cut short by SIGTERM prints a JSON error (DUALRUN_INTERRUPTED), not an empty stdout that does not parse', async () => {
    const run = await stuckReconcile(['--format', 'json']);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.closed, run.stderr()).toBe(143);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(JSON.parse(run.stdout()).error).toMatchObject({ code: 'DUALRUN_INTERRUPTED', signal: 'SIGTERM', retryable: true });
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    }).on('error', reject);
  });
}

/**
 * `reconcile stuck` started and seen running its 30 s fingerprint query. The previous test's
 * query may still be running (a backend notices a gone client late): only one started after now counts.
 */
async function stuckReconcile(extra: string[]) {
  const since = (await db.pool.query('SELECT now() AS t')).rows[0].t;
  const child = spawn(process.execPath, [BIN, '--config', path.join(dir, 'dualrun.yaml'), 'reconcile', 'stuck', '--assume-settled', ...extra], { cwd: dir, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    const q = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%stuck_batch%' AND state = 'active' AND pid <> pg_backend_pid() AND query_start > $1`, [since]);
    if (q.rows[0].n > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, closed, stdout: () => stdout, stderr: () => stderr };
}
