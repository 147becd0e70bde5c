/**
 * NO_COLOR (https://no-color.org) on a terminal: pino-pretty was always told to
 * colour, so `NO_COLOR=1 dualrun ...` still wrote ANSI colour codes around every log
 * line's level and message. The terminal is a real pty (`script`).
 */
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../../support/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-no-color-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/;

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A command that logs an error on a pty: a reconcile against a Postgres that is not there. */
async function onTerminal(env: Record<string, string>): Promise<string> {
  const port = await closedPort();
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), `database:\n  url: postgres://u:pw@127.0.0.1:${port}/x\ndatasets:\n  t:\n    key: [id]\n    batch: { output: s.b }\n    stream: { output: s.s }\n`);
  const cmd = `"${process.execPath}" "${BIN}" --config "${path.join(dir, 'dualrun.yaml')}" --log-level info reconcile t`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm', ...env }, timeout: 60_000 });
  expect(r.status, r.stdout).toBe(3);
  expect(r.stdout).toMatch(/ERROR.*reconciliation could not start/);
  return r.stdout;
}

describe('NO_COLOR on a terminal', () => {
  it('logs are coloured on a terminal by default', async () => {
    expect(await onTerminal({ NO_COLOR: '' })).toMatch(SGR);
  });

  it('NO_COLOR=1 (and TERM=dumb) leaves out every ANSI colour code', async () => {
    expect(await onTerminal({ NO_COLOR: '1' })).not.toMatch(SGR);
    expect(await onTerminal({ TERM: 'dumb' })).not.toMatch(SGR);
  });
});
