/**
 * A password in the connection URL's query string (`?password=`, which node-postgres
 * and libpq both log in with) is a password like the user-info one: `dualrun db url`
 * printed it in full (it masked only `user:PW@`), and `dualrun db psql` put it on
 * psql's command line, where `ps` shows it to every user.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { serverUrl } from '../../support/pg.ts';
import { maskPassword } from '../../../src/app/commands/db.ts';

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-db-qpw-'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

/** The test server's URL with its password moved from user-info to `?password=`. */
function queryPasswordUrl(): { url: string; password: string } {
  const u = new URL(serverUrl());
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: `${u.toString()}?password=${encodeURIComponent(password)}&application_name=probe`, password };
}

describe('a password in the connection URL query string', () => {
  const { url, password } = queryPasswordUrl();
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), 'database:\n  url: ${QPW_URL}\ndatasets: {}\n');
  const env = { QPW_URL: url, DATABASE_URL: undefined, DUALRUN_CONFIG: undefined };

  it('db url masks it (text and JSON) and shows it only with --show-password', async () => {
    const text = await runCli(['db', 'url'], { cwd, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout + text.stderr).not.toContain(password);
    expect(text.stdout.trim()).toMatch(/\?password=\*\*\*\*&application_name=probe$/);
    const asJson = await runCli(['db', 'url', '--format', 'json'], { cwd, env });
    expect(asJson.stdout + asJson.stderr).not.toContain(password);
    const shown = await runCli(['db', 'url', '--show-password'], { cwd, env });
    expect(shown.stdout.trim()).toBe(url);
  });

  it('db psql passes it in PGPASSWORD, not on the command line', async () => {
    // A stand-in psql that reports what it was given.
    const bin = path.join(cwd, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'psql'), '#!/bin/sh\necho "argv: $*"\necho "PGPASSWORD: $PGPASSWORD"\n', { mode: 0o755 });
    const r = await runCli(['db', 'psql', '--', '-c', 'select 1'], { cwd, env: { ...env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } });
    expect(r.code, r.stderr).toBe(0);
    const argv = r.stdout.split('\n').find((l) => l.startsWith('argv: '))!;
    expect(argv).not.toContain(password);
    expect(argv).toContain('application_name=probe');
    expect(argv).toContain('-c select 1');
    expect(r.stdout).toContain(`PGPASSWORD: ${password}`);
  });

  it('maskPassword masks user-info, password and sslpassword and keeps the other parameters byte for byte', () => {
    expect(maskPassword('postgres://etl@db/dw?password=s%26cret&options=-c%20search_path%3Dx&sslpassword=kp'))
      .toBe('postgres://etl@db/dw?password=****&options=-c%20search_path%3Dx&sslpassword=****');
    expect(maskPassword('postgres://etl:pw@db/dw?password=other')).toBe('postgres://etl:****@db/dw?password=****');
  });
});
