/**
 * Property-based reconciler tests (fast-check) on the real Postgres: generated
 * table shapes, rows, physical variants per side that must stay equal, and
 * seeded differences that must be found exactly (property-model.ts,
 * property-check.ts). A fixed seed here for CI; `npm run test:props -- --runs N`
 * runs many more (scripts/reconcile-properties.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { serverUrl } from '../support/pg.ts';
import { caseArb } from './property-model.ts';
import { checkCase, propertyEnv, type PropertyEnv } from './property-check.ts';

const RUNS = Number(process.env.PROPS_RUNS ?? 200);
const SEED = Number(process.env.PROPS_SEED ?? 20261201);

let env: PropertyEnv;
beforeAll(async () => { env = await propertyEnv(serverUrl()); });
afterAll(async () => { await env?.close(); });

describe('reconcile properties (generated cases)', () => {
  it(`equal rows in other physical forms match and every seeded difference is found exactly (${RUNS} cases, seed ${SEED})`, async () => {
    await fc.assert(fc.asyncProperty(caseArb, (c) => checkCase(env, c)), { numRuns: RUNS, seed: SEED });
  }, 240_000);
});
