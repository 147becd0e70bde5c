/**
 * `dualrun report --out FILE` wrote a temporary file and renamed it over FILE, whatever
 * FILE was: a symlink (`--out /dev/stdout`, a link into a shared folder) was replaced by
 * a regular file, and so was a FIFO or a device (as root, `--out /dev/full` turned the
 * device into a file); a folder or a path under a file ended as DUALRUN_INTERNAL ("report
 * it") and left the temporary file behind. A plain file is still replaced atomically.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { runCli } from '../../support/cli.ts';

let db: TestDatabase;
let dir: string;
const report = (out: string) => runCli(['--config', path.join(dir, 'dualrun.yaml'), 'report', '--format', 'json', '--out', out], { cwd: dir });
const leftovers = (folder: string) => fs.readdirSync(folder).filter((f) => f.endsWith('.tmp'));

beforeAll(async () => {
  db = await createTestDatabase('report_out');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-report-out-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({ database: { url: db.url }, datasets: {} }));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('report --out', () => {
  it('a plain file is written whole, with no temporary file left', async () => {
    const r = await report(path.join(dir, 'night.json'));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'night.json'), 'utf8')).status).toBeDefined();
    expect(leftovers(dir)).toEqual([]);
  });

  it('a symlink stays a symlink: the report goes to its target', async () => {
    const target = path.join(dir, 'target.json');
    fs.writeFileSync(target, 'old');
    const link = path.join(dir, 'link.json');
    fs.symlinkSync(target, link);
    const r = await report(link);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(target, 'utf8')).status).toBeDefined();
  });

  it('a FIFO stays a FIFO: its reader gets the report', async () => {
    const fifo = path.join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    reader.stdout.on('data', (d) => (got += d));
    const done = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    const r = await report(fifo);
    const timer = setTimeout(() => reader.kill(), 5_000);
    await done;
    clearTimeout(timer);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    expect(JSON.parse(got).status).toBeDefined();
  });

  it('a folder, or a path under a file, is a usage error (exit 2) naming the path; nothing is left behind', async () => {
    const folder = path.join(dir, 'reports');
    fs.mkdirSync(folder);
    const r = await report(folder);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`dualrun: DUALRUN_USAGE: cannot write ${folder}: it is a folder`);
    const under = await report(path.join(dir, 'night.json', 'x.json'));
    expect(under.code, under.stderr).toBe(2);
    expect(under.stderr).toMatch(/DUALRUN_USAGE: cannot write .*night\.json\/x\.json/);
    expect(`${r.stderr}${under.stderr}`).not.toContain('DUALRUN_INTERNAL');
    expect(leftovers(dir)).toEqual([]);
  });
});
