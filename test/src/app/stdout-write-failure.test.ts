/**
 * stdout that cannot be written (a full disk: `dualrun datasets --format json > status.json`)
 * is a failed command. The write error was swallowed by the handler meant for a reader
 * that goes away (EPIPE), so the command exited 0 with its results lost; it now exits 3
 * with DUALRUN_OUTPUT_FAILED on stderr. /dev/full fails every write with ENOSPC.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../../support/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-stdout-full-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// No database is needed: the commands below never reach one.
fs.writeFileSync(path.join(dir, 'dualrun.yaml'), 'datasets: {}\n');

function runWithStdout(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const fd = fs.openSync(file, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn', DATABASE_URL: '' }, stdio: ['ignore', fd, 'pipe'] });
    fs.closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe.runIf(fs.existsSync('/dev/full'))('stdout that cannot be written', () => {
  it.each([
    [['--version']],
    [['help', 'reconcile']],
    // A result of the command's own (an error as JSON, exit 2 otherwise).
    [['reconcile', 'nosuch', '--format', 'json']],
  ])('dualrun %j > /dev/full exits 3 with DUALRUN_OUTPUT_FAILED', async (args) => {
    const r = await runWithStdout('/dev/full', args);
    expect(r.stderr).toMatch(/dualrun: DUALRUN_OUTPUT_FAILED: the results could not be written to stdout: ENOSPC/);
    expect(r.code).toBe(3);
  });

  it('the same into a file that can be written exits as before, with the output there', async () => {
    const file = path.join(dir, 'out.txt');
    const version = await runWithStdout(file, ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^\d+\.\d+\.\d+\n$/);
    const unknown = await runWithStdout(file, ['reconcile', 'nosuch', '--format', 'json']);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).error.code).toBe('DUALRUN_DATASET_UNKNOWN');
  });
});
