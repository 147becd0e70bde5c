/**
 * `dualrun report --out /proc/nope/x.html` never returned: Node's recursive mkdir loops
 * for ever under /proc (90% CPU), and being synchronous it kept SIGTERM's handler from
 * running; only SIGKILL stopped it. And `dualrun init --dir` under a regular file ended as
 * DUALRUN_INTERNAL ("report it"), as did `add`'s scaffold files: a path the user gave
 * that cannot be made is a usage error (exit 2) naming it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { runCli } from '../../support/cli.ts';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase('out_unmakeable');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-out-unmakeable-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({ database: { url: db.url }, datasets: {} }));
  fs.writeFileSync(path.join(dir, 'plain-file'), 'x');
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('an output path whose folders cannot be made', () => {
  it('report --out under /proc exits 2 at once naming the path', async () => {
    const started = Date.now();
    const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'report', '--format', 'json', '--out', '/proc/nope/x.html'], { cwd: dir, timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('/proc/nope/x.html');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('init --dir under a regular file is a usage error, not an internal one', async () => {
    const r = await runCli(['init', '--dir', path.join(dir, 'plain-file', 'sub')], { cwd: dir, timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('plain-file');
    expect(r.stderr).not.toContain('DUALRUN_INTERNAL');
  });
});
