/**
 * The differential probe's cases (peer-cases.ts) as a fast regression suite:
 * every pair of values or keys over ~100 column and key types must give the
 * finding reviewed against reladiff 0.6 and docs/reconcile.md (`expect`), in
 * one database (a range bucket per key, so the fingerprint must see each
 * difference) and across two (the batch side's database in another TimeZone).
 * The probe itself, with reladiff beside it: scripts/reconcile-vs-reladiff.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { freshDatabase, runtimeFor } from './support.ts';
import { PEER_CASES, type PeerCase } from './peer-cases.ts';
import { buildCase, caseDataset, differingKeys, pairFindings } from './peer-build.ts';

let db: TestDatabase;
let other: TestDatabase;
let rt: Runtime;
const PLACEMENTS = ['same', 'cross'] as const;
const schemaOf = (c: PeerCase, p: string) => `pc_${c.name}_${p}`;

beforeAll(async () => {
  [db, other] = await Promise.all([freshDatabase('peer'), freshDatabase('peerx')]);
  await other.pool.query(`ALTER DATABASE "${other.name}" SET timezone = 'Pacific/Chatham'`);
  // Extensions first: the cases' own CREATE EXTENSION IF NOT EXISTS may race between placements.
  for (const d of [db, other]) await d.pool.query('CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS hstore');
  const datasets: Record<string, Record<string, unknown>> = {};
  for (const c of PEER_CASES) {
    datasets[schemaOf(c, 'same')] = caseDataset(c, schemaOf(c, 'same'), undefined, 1021);
    datasets[schemaOf(c, 'cross')] = caseDataset(c, schemaOf(c, 'cross'), other.url);
  }
  // Both placements at once: one database each is busy with its own DDL.
  await Promise.all(PLACEMENTS.map(async (p) => {
    for (const c of PEER_CASES) {
      const notes = await buildCase(c, schemaOf(c, p), p === 'same' ? db.pool : other.pool, db.pool);
      if (notes.length) throw new Error(`${c.name} [${p}]: ${notes.join('; ')}`);
    }
  }));
  rt = runtimeFor(db, datasets);
}, 120_000);
afterAll(async () => { await rt?.close(); await db?.drop(); await other?.drop(); });

/** What a case's result says, in the shape of its expectation. */
function finding(c: PeerCase, r: Awaited<ReturnType<typeof reconcileDataset>>[number]): string {
  if (r.error) return `error ${r.error.code}: ${r.error.message}`;
  const keys = differingKeys(c, r);
  const pairs = c.key ? '' : pairFindings(c, keys);
  const others = c.key ? keys.size : [...keys.keys()].filter((k) => !(Number(k) >= 1 && Number(k) <= c.pairs.length)).length;
  return `${r.verdict} ${pairs} others=${others}${r.schemaDrift?.length ? ' drift' : ''}`;
}

function expected(c: PeerCase): string {
  const differs = (c.expect ?? '').includes('x') || (c.otherKeys ?? 0) > 0 || !!c.drift;
  return `${differs ? 'mismatch' : 'match'} ${c.expect ?? ''} others=${c.otherKeys ?? 0}${c.drift ? ' drift' : ''}`;
}

describe('differential cases against reladiff, as reviewed (one line per type pair)', () => {
  for (const p of PLACEMENTS) {
    it(`${p === 'same' ? 'one database' : 'two databases, other TimeZone'}: every value and key pair gives its reviewed finding`, async () => {
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const c of PEER_CASES) {
        const [r] = await reconcileDataset(rt, schemaOf(c, p), { assumeSettled: true, samples: 1000, store: false });
        got[c.name] = finding(c, r);
        want[c.name] = expected(c);
      }
      expect(got).toEqual(want);
    }, 60_000);
  }
});
