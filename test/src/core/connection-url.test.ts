/**
 * A password with unescaped URL characters used to be mis-parsed, and fragments of
 * it were printed as host and database names. Such a URL is refused (exit 2) with a
 * message that shows no part of the password and says how to percent-encode.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionUrlProblem } from '../../../src/core/db/connection-url.ts';
import { createPool } from '../../../src/core/db/connect.ts';
import { scrubSecrets } from '../../../src/core/secrets.ts';
import { runCli } from '../../support/cli.ts';

const BAD = [
  'postgres://u:p@ss#w/rd@host/db',
  'postgres://u:p@ss@host/db',
  'postgres://u:pa/ss@host:5432/db',
  'postgres://u:pa?ss@host/db',
  'postgres://u:pa:ss@host/db',
  'postgres://u:100%sure@host/db',
];

describe('connection strings with unescaped password characters', () => {
  it.each(BAD)('refuses %s', (url) => {
    expect(connectionUrlProblem(url)).toMatch(/percent-encode/);
  });

  it('accepts properly encoded and plain URLs', () => {
    for (const ok of ['postgres://u:p%40ss%23w%2Frd@host/db', 'postgres://host/db', 'postgresql://u@127.0.0.1:5432/postgres?sslmode=disable', 'postgres://u:pw@h/d?application_name=a']) {
      expect(connectionUrlProblem(ok)).toBe(null);
    }
  });

  it('createPool refuses it without echoing the URL', () => {
    expect(() => createPool('postgres://u:p@ss#w/rd@host/db')).toThrow(/percent-encode/);
    try { createPool('postgres://u:p@ss#w/rd@host/db'); } catch (e) { expect((e as Error).message).not.toMatch(/ss#w|w\/rd|rd@host|p@ss/); }
  });

  it('a mis-escaped password is masked whole in logs, not in part', () => {
    expect(scrubSecrets('failed: postgres://u:p@ss#w/rd@host/db')).toBe('failed: postgres://u:***@host/db');
  });

  it('a password with # and / in database.url exits 2 naming the field, showing no part of the password', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-url-'));
    const file = path.join(dir, 'dualrun.json');
    fs.writeFileSync(file, JSON.stringify({ database: { url: '${TEST_DB_URL}' }, datasets: {} }));
    const r = await runCli(['--config', file, 'datasets'], { cwd: dir, env: { TEST_DB_URL: 'postgres://u:p@ss#w/rd@host/db' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/database\.url: .*percent-encode/);
    expect(r.stderr).toMatch(/%23/);
    expect(r.stderr).not.toMatch(/ss#w|w\/rd|rd@host|p@ss|@ss/);
  });
});
