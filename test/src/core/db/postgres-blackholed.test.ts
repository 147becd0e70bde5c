/**
 * A Postgres address that drops SYNs (a firewalled or dead host) took pg's whole 10 s
 * connection timeout to exit 3, and said "Connection terminated due to connection timeout",
 * the same words as a server that accepted and then hung. It now exits 3 after a 5 s TCP
 * check saying the address gave no TCP answer; refused ports and unknown hosts stay at once,
 * with the OS's reason; a server that accepts TCP and hangs still gets pg's timeout. Never the
 * password. Real processes and sockets; elapsed times measured.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.ts';
import { blackholes } from '../../../support/blackhole.ts';
import { freePort } from '../../../support/long-running-cli.ts';

const holes = blackholes();
afterAll(() => holes.close());

async function datasetsAgainst(url: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-pg-blackholed-'));
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), `database:\n  url: ${url}\ndatasets: {}\n`);
  const t0 = Date.now();
  const r = await runCli(['datasets'], { cwd: dir });
  return { ...r, ms: Date.now() - t0 };
}

describe('Postgres that cannot be reached', () => {
  it('a blackholed address exits 3 after the TCP check, saying no TCP answer', { timeout: 30_000 }, async () => {
    const port = await holes.blackhole();
    const r = await datasetsAgainst(`postgres://etl:pw-blackhole-1@127.0.0.1:${port}/dw`);
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeLessThan(8_500);
    expect(r.stderr).toContain(`DUALRUN_DB_UNREACHABLE: cannot connect to the toolkit Postgres (database.url) at 127.0.0.1:${port} (database dw, user etl): no TCP answer within 5 s`);
    expect(r.stderr).not.toContain('pw-blackhole-1');
  });

  it('a refused port and an unknown host exit 3 at once, with the OS reason', { timeout: 30_000 }, async () => {
    const port = await freePort();
    for (const [url, reason] of [[`postgres://etl:pw-r@127.0.0.1:${port}/dw`, 'ECONNREFUSED'], ['postgres://etl:pw-r@no-such-host.invalid:5432/dw', 'ENOTFOUND']]) {
      const r = await datasetsAgainst(url);
      expect(r.code, r.stderr).toBe(3);
      expect(r.ms).toBeLessThan(5_000);
      expect(r.stderr).toContain(reason);
      expect(r.stderr).not.toContain('pw-r');
    }
  });

  it('a server that accepts TCP and hangs still gets the 10 s connection timeout', { timeout: 30_000 }, async () => {
    const port = await holes.silent();
    const r = await datasetsAgainst(`postgres://etl:pw-s@127.0.0.1:${port}/dw`);
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeGreaterThanOrEqual(10_000);
    expect(r.stderr).toContain('DUALRUN_DB_UNREACHABLE');
  });
});
