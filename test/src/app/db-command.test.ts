/**
 * `dualrun db url|psql` on the embedded default, in an empty folder: the URL
 * of the server in use with the password masked (shown only when asked), and
 * psql opened on it when psql is installed (a clear error otherwise).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { maskPassword } from '../../../src/app/commands/db.ts';

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-db-'));
// The embedded server may run as an unprivileged user, who must reach the folder.
fs.chmodSync(cwd, 0o755);
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));
const env = { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined };

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, name)));
}

describe('dualrun db', () => {
  it('db url prints the embedded database URL, the password masked unless --show-password; db psql opens psql on it', async () => {
    const masked = await runCli(['db', 'url'], { cwd, env });
    expect(masked.code, masked.stderr).toBe(0);
    const password = fs.readFileSync(path.join(cwd, '.dualrun', 'password'), 'utf8').trim();
    expect(masked.stdout.trim()).toMatch(/^postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/postgres$/);
    expect(masked.stdout + masked.stderr).not.toContain(password);
    const shown = await runCli(['db', 'url', '--show-password', '--format', 'json'], { cwd, env });
    expect(shown.code, shown.stderr).toBe(0);
    const u = new URL(JSON.parse(shown.stdout).url);
    expect(decodeURIComponent(u.password)).toBe(password);
    expect(JSON.parse(shown.stdout).embedded).toBe(true);

    const psql = await runCli(['db', 'psql', '--', '-At', '-c', 'select 6 * 7'], { cwd, env });
    if (onPath('psql')) {
      expect(psql.code, psql.stderr).toBe(0);
      expect(psql.stdout.trim()).toBe('42');
    } else {
      expect(psql.code).toBe(2);
      expect(psql.stderr).toContain('psql is not installed');
    }
  });

  it('db psql without psql on PATH says so and exits 2', async () => {
    const noBin = path.join(cwd, 'no-bin');
    fs.mkdirSync(noBin, { recursive: true });
    const r = await runCli(['db', 'psql'], { cwd, env: { ...env, PATH: noBin } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('psql is not installed (not found on PATH)');
  });

  it('maskPassword hides exactly the password', () => {
    expect(maskPassword('postgres://etl:s%40cret@db:5432/dw?sslmode=require')).toBe('postgres://etl:****@db:5432/dw?sslmode=require');
    expect(maskPassword('postgres://etl@db/dw')).toBe('postgres://etl@db/dw');
  });
});
