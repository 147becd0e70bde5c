/**
 * `dualrun demo` end to end, as a newcomer runs it: a real embedded Postgres in a
 * fresh folder, every part of dualrun driven through its real commands. The story's
 * facts are asserted, not just its exit code.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DemoFacts } from '../../src/demo/demo-story.ts';
import { DEFECT_DAY_INDEX, DEMO_DAYS } from '../../src/demo/demo-story.ts';
import { runCli } from '../support/cli.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';

async function runDemo(env: Record<string, string | undefined>): Promise<DemoFacts & { seconds: number }> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-demo-'));
  fs.chmodSync(cwd, 0o755);
  const r = await runCli(['demo', '--format', 'json'], { cwd, env: { DATABASE_URL: undefined, DUALRUN_CONFIG: undefined, ...env }, timeoutMs: 170_000 });
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  const facts = JSON.parse(r.stdout) as DemoFacts & { seconds: number };
  expect(facts.folder).toBe(path.join(cwd, 'dualrun-demo'));
  return facts;
}

function assertStory(f: DemoFacts): void {
  const defectDay = DEMO_DAYS[DEFECT_DAY_INDEX];
  // The defect is caught on its day, with exactly the affected keys and column.
  expect(f.nights.find((n) => n.day === defectDay)).toMatchObject({ verdict: 'mismatch', code: 1 });
  expect(f.defect.expectedKeys.length).toBeGreaterThan(50);
  expect(f.defect.foundKeys).toEqual(f.defect.expectedKeys);
  expect(f.defect.kinds).toEqual(['changed']);
  expect(f.defect.columns).toEqual(['placed_at']);
  // Every other night is clean; the replay with the fixed transform cleans the defect day.
  expect(f.nights.filter((n) => n.day !== defectDay).map((n) => n.verdict)).toEqual(DEMO_DAYS.filter((d) => d !== defectDay).map(() => 'match'));
  expect(f.afterReplay).toEqual({ day: defectDay, verdict: 'match' });
  // The gate refuses too early, then grants; the view follows every change.
  expect(f.promotionRefused.code).toBe(1);
  expect(f.promotionRefused.message).toMatch(/refused/);
  expect(f.promotionGranted).toEqual({ code: 0, stage: 'streaming', servedFrom: 'analytics.orders_stream' });
  expect(f.rollback).toEqual({ code: 0, stage: 'shadow', servedFrom: 'analytics.orders_batch' });
  expect(f.repromotion).toEqual({ code: 0, stage: 'streaming', servedFrom: 'analytics.orders_stream' });
  expect(f.steps.every((s) => s.command.startsWith('dualrun '))).toBe(true);
}

function renderInChromium(file: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-chromium-'));
  return execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
}

describe('dualrun demo', () => {
  it('tells the whole story on the embedded default (changelog transport) and writes a report that renders', async () => {
    const facts = await runDemo({ KAFKA_BROKERS: undefined });
    assertStory(facts);
    expect(fs.existsSync(facts.report)).toBe(true);
    const dom = renderInChromium(facts.report);
    expect(dom).toContain('orders');
    expect(dom).toMatch(/<svg/);
  }, 180_000);
});

describeKafka('dualrun demo with Kafka', () => {
  it('tells the same story through capture relayed to Kafka', async () => {
    assertStory(await runDemo({ KAFKA_BROKERS: kafkaBrokers().join(',') }));
  }, 180_000);
});
