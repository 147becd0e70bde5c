/**
 * `cutover promote`/`rollback` with a batch.output or stream.output that does not exist (a typo)
 * exited 1 (DUALRUN_SERVE_REFUSED) advising "run the batch path first", which cannot help: the batch
 * path refuses a missing output as a config mistake too, and outputs are created by `dualrun migrate`.
 * It is now a config mistake (exit 2) naming the file, the field and the nearest existing table, and
 * the stage and the view are left as they were.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.ts';
import { createFixture, rawConfig, servedSide, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let cwd: string;
/** A config file whose orders dataset names these outputs. */
function configWith(file: string, outputs: { batch?: string; stream?: string }): string {
  const raw = rawConfig(fx.db.url) as { datasets: Record<string, { batch: { output: string }; stream: { output: string } }> };
  const orders = raw.datasets.orders;
  raw.datasets.orders = { ...orders, batch: { ...orders.batch, output: outputs.batch ?? orders.batch.output }, stream: { ...orders.stream, output: outputs.stream ?? orders.stream.output } };
  const p = path.join(cwd, file);
  fs.writeFileSync(p, JSON.stringify(raw, null, 2));
  return p;
}
beforeAll(async () => {
  fx = await createFixture();
  cwd = tempDir();
  configWith('dualrun.yaml', {});
});
afterAll(async () => {
  await fx?.cleanup();
  fs.rmSync(cwd, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(['cutover', ...args], { cwd, env: { USER: 'ci-user' } });
/** The stage row and the audit's length: a refused change leaves both. */
const stage = async () => ({
  ...((await fx.db.pool.query<{ stage: string }>(`SELECT stage FROM dualrun.stages WHERE dataset = 'orders'`)).rows[0] ?? { stage: 'batch' }),
  audits: (await fx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.cutover_audit WHERE dataset = 'orders'`)).rows[0].n,
});

describe('a cutover with an output that does not exist is a config mistake (exit 2), never a change', () => {
  it('a misspelt batch.output: exit 2 naming the file, the field and the nearest table; nothing changes', async () => {
    const file = configWith('btch.yaml', { batch: 'analytics.orders_btch' });
    const r = await cli('promote', 'orders', '--reason', 'start shadowing', '-c', file);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`DUALRUN_CONFIG_INVALID: invalid config ${file}: datasets.orders.batch.output: table analytics.orders_btch does not exist (did you mean analytics.orders_batch?)`);
    expect(r.stderr).toContain('correct the name, or create it (dualrun migrate creates missing outputs)');
    expect(r.stderr).not.toContain('run the batch path first');
    expect(await stage()).toMatchObject({ stage: 'batch', audits: 0 });
    expect((await fx.db.pool.query(`SELECT to_regclass('analytics.orders') AS v`)).rows[0].v).toBeNull();
  });

  it('a correctly named output not created yet: the same exit 2, with no name to suggest', async () => {
    const file = configWith('unmade.yaml', { batch: 'reporting.daily_totals' });
    const r = await cli('promote', 'orders', '--reason', 'start shadowing', '-c', file, '--format', 'json');
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'DUALRUN_CONFIG_INVALID', path: 'datasets.orders.batch.output', dataset: 'orders', table: 'reporting.daily_totals' });
    expect(JSON.parse(r.stdout).error.message).not.toContain('did you mean');
    expect(await stage()).toMatchObject({ stage: 'batch', audits: 0 });
  });

  it('a misspelt stream.output on a forced promotion, and a misspelt batch.output on a rollback: exit 2, the stage and the served side kept', async () => {
    const shadow = await cli('promote', 'orders', '--reason', 'start shadowing');
    expect(shadow.code, shadow.stderr).toBe(0);
    const steam = configWith('steam.yaml', { stream: 'analytics.orders_steam' });
    const forced = await cli('promote', 'orders', '--reason', 'incident 42', '--force', '-c', steam);
    expect(forced.code, forced.stderr).toBe(2);
    expect(forced.stderr).toContain(`invalid config ${steam}: datasets.orders.stream.output: table analytics.orders_steam does not exist (did you mean analytics.orders_stream?)`);
    expect(await stage()).toMatchObject({ stage: 'shadow', audits: 1 });
    expect(await servedSide(fx.db.pool)).toBe('batch');

    const btch = configWith('btch.yaml', { batch: 'analytics.orders_btch' });
    const back = await cli('rollback', 'orders', '--reason', 'back', '-c', btch);
    expect(back.code, back.stderr).toBe(2);
    expect(back.stderr).toContain('datasets.orders.batch.output: table analytics.orders_btch does not exist (did you mean analytics.orders_batch?)');
    expect(await stage()).toMatchObject({ stage: 'shadow', audits: 1 });
  });
});
