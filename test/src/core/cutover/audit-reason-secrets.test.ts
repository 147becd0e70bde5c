/**
 * `cutover promote --reason` stored the text as typed in the append-only audit, so a
 * connection string pasted into it ("moved to postgres://ops:PW@db2/shop") kept its password
 * in `cutover history` for good (the audit refuses UPDATE). Reasons and actors are now
 * scrubbed as logs are, before they are stored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.ts';
import { createFixture, rawConfig, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let cwd: string;
beforeAll(async () => {
  fx = await createFixture();
  cwd = tempDir();
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), JSON.stringify(rawConfig(fx.db.url), null, 2));
});
afterAll(async () => {
  await fx?.cleanup();
  fs.rmSync(cwd, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(['cutover', ...args], { cwd, env: { USER: 'ci-user' } });

describe('audit reasons', () => {
  it('a password pasted into --reason is not stored', async () => {
    const r = await cli('promote', 'orders', '--reason', 'legacy moved to postgres://ops:Hunter2secret@db2/shop, password=Zebra77x');
    expect(r.code, r.stderr).toBe(0);
    const history = await cli('history', 'orders', '--format', 'json');
    expect(history.code, history.stderr).toBe(0);
    const stored = (await fx.db.pool.query<{ t: string }>("SELECT string_agg(reason || ' ' || actor, ' ') AS t FROM dualrun.cutover_audit WHERE dataset = 'orders'")).rows[0].t;
    for (const text of [history.stdout, stored]) {
      expect(text).toContain('legacy moved to postgres://ops:***@db2/shop');
      for (const secret of ['Hunter2secret', 'Zebra77x']) expect(text).not.toContain(secret);
    }
  });
});
