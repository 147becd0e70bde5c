/** Config keys of the operations features: metrics.port, alerts.webhooks, stream.maxDeadLetterRate. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { DualrunError } from '../../../../src/core/errors.ts';
import { scrubSecrets } from '../../../../src/core/secrets.ts';
import { runCli } from '../../../support/cli.ts';

const dataset = (stream: Record<string, unknown> = {}) => ({ key: ['id'], batch: { output: 'public.b' }, stream: { output: 'public.s', source: { table: 'public.src' }, ...stream } });
const compile = (raw: Record<string, unknown>, env: Record<string, string> = {}) => compileConfig(raw, { path: '/x/dualrun.yaml', env });

function problems(raw: Record<string, unknown>): string[] {
  try { compile(raw); } catch (e) { return ((e as DualrunError).details.problems as string[]); }
  throw new Error('expected an error');
}

describe('operations config', () => {
  it('defaults: no metrics port, no webhooks, no dead-letter limit', () => {
    const c = compile({ datasets: { orders: dataset() } });
    expect(c.metrics).toEqual({ port: null, host: '0.0.0.0' });
    expect(c.alerts).toEqual({ webhooks: [] });
    expect(c.datasets.orders.stream.maxDeadLetterRate).toBeNull();
  });

  it('compiles metrics, webhooks with ${ENV} secrets (registered for scrubbing) and the dead-letter limit', () => {
    const c = compile({
      metrics: { port: 9464, host: '127.0.0.1' },
      alerts: { webhooks: [{ url: 'https://hooks.example.com/services/${HOOK}', events: ['mismatch', 'stream_stalled'] }] },
      datasets: { orders: dataset({ maxDeadLetterRate: { ratio: 0.01, window: 1000 } }) },
    }, { HOOK: 'T1/B2/very-secret-hook' });
    expect(c.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(c.alerts.webhooks).toEqual([{ url: 'https://hooks.example.com/services/T1/B2/very-secret-hook', events: ['mismatch', 'stream_stalled'] }]);
    expect(c.datasets.orders.stream.maxDeadLetterRate).toEqual({ ratio: 0.01, window: 1000 });
    expect(scrubSecrets('posting to https://hooks.example.com/services/T1/B2/very-secret-hook failed')).not.toContain('very-secret-hook');
  });

  it('bad values name the field', () => {
    expect(problems({ metrics: { port: 70000 }, datasets: {} })).toEqual(['metrics.port: must be <= 65535']);
    expect(problems({ alerts: { webhooks: [{ url: 'https://h/x', events: ['mismatch', 'coffee'] }] }, datasets: {} })[0]).toMatch(/^alerts\.webhooks\.0\.events\.1: expected one of "mismatch"/);
    expect(problems({ alerts: { webhooks: [{ url: 'ftp://h/x', events: ['mismatch'] }] }, datasets: {} })).toEqual(['alerts.webhooks.0.url: expected an http:// or https:// URL']);
    expect(problems({ alerts: { webhooks: [{ url: 'https://h/x' }] }, datasets: {} })).toEqual(['alerts.webhooks.0.events: required field is missing']);
    expect(problems({ datasets: { orders: dataset({ maxDeadLetterRate: { ratio: 0, window: 10 } }) } })[0]).toMatch(/^datasets\.orders\.stream\.maxDeadLetterRate\.ratio: /);
  });

  it('--metrics-port must be a port number (exit 2)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-mport-'));
    fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify({ database: { url: 'postgres://nobody@127.0.0.1:1/x' }, report: { schedule: '0 3 * * *' }, datasets: {} }));
    const r = await runCli(['schedule', '--metrics-port', 'nine'], { cwd: dir, env: { DUALRUN_CONFIG: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--metrics-port: expected a port number 0-65535, got "nine"');
  });
});
