/**
 * `npm run test:props -- --runs N [--seed S] [--lanes L]`: the reconciler's
 * generated cases (test/reconcile/property-*.ts), many more than the CI seed.
 * Uses DUALRUN_TEST_DATABASE_URL when set, else starts an embedded Postgres in
 * a temp folder. L lanes run concurrently, lane i with seed S + i. Exits 1 on
 * the first wrong case (printed with its seed and path to replay), else 0.
 * Runs and seed may also come from PROPS_RUNS / PROPS_SEED.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { acquireEmbeddedPostgres, type EmbeddedHandle } from '../src/core/db/embedded-postgres.ts';
import { caseArb } from '../test/reconcile/property-model.ts';
import { checkCase, propertyEnv } from '../test/reconcile/property-check.ts';

const { values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, lanes: { type: 'string' } } });
const runs = Number(values.runs ?? process.env.PROPS_RUNS ?? 2000);
const seed = Number(values.seed ?? process.env.PROPS_SEED ?? Date.now() % 2 ** 31);
const lanes = Math.max(1, Number(values.lanes ?? 3));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run test:props -- --runs N [--seed S] [--lanes L]');
  process.exit(2);
}

let handle: EmbeddedHandle | undefined;
let dir: string | undefined;
let url = process.env.DUALRUN_TEST_DATABASE_URL;
if (!url) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-props-pg-'));
  fs.chmodSync(dir, 0o755);
  handle = await acquireEmbeddedPostgres({ dir, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' } });
  url = handle.url;
}

const env = await propertyEnv(url);
let done = 0;
const started = Date.now();
const perLane = Math.ceil(runs / lanes);
let failed = false;
try {
  const results = await Promise.all(Array.from({ length: lanes }, (_, i) => fc.check(
    fc.asyncProperty(caseArb, async (c) => {
      await checkCase(env, c);
      if (++done % 500 === 0) console.error(`${done} cases, ${Math.round((Date.now() - started) / 1000)} s`);
    }),
    { numRuns: Math.min(perLane, runs - i * perLane), seed: seed + i },
  )));
  const ran = results.reduce((n, r) => n + r.numRuns, 0);
  for (const r of results.filter((x) => x.failed)) {
    failed = true;
    console.error(fc.defaultReportMessage(r));
  }
  console.log(`${ran} generated cases in ${lanes} lanes (seeds ${seed}..${seed + lanes - 1}), ${Math.round((Date.now() - started) / 1000)} s: ${failed ? 'FAILED' : '0 wrong'}`);
} finally {
  await env.close();
  await handle?.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
