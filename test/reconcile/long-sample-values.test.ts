/**
 * Samples kept every compared value whole. Five differing rows of a 29 MB text column made the
 * verdict `error` ("storing the result failed: total size of jsonb array elements exceeds the
 * maximum of 268435455 bytes", the stored result being one jsonb) after holding ~1 GB in Node,
 * on tables that simply differ. A sample now keeps a long value as its start, its length and a
 * digest of the whole; values are still compared whole. (Here at a size a test can afford.) The marker is ASCII (`...`): a LATIN1 database cannot hold an ellipsis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase('lsv');
  await db.pool.query(`
    CREATE SCHEMA lv;
    CREATE TABLE lv.b (id int PRIMARY KEY, doc text, n int);
    CREATE TABLE lv.s (LIKE lv.b INCLUDING ALL);
    INSERT INTO lv.b VALUES (1, repeat('x', 200000) || 'a', 1), (2, repeat('y', 200000), 1), (3, 'short', 1);
    INSERT INTO lv.s VALUES (1, repeat('x', 200000) || 'b', 1), (2, repeat('y', 200000), 2), (3, 'shorter', 1);`);
});
afterAll(async () => { await db?.drop(); });

describe('long values in samples', () => {
  it('a long differing value is sampled as its start, length and digest, stored, and still a difference', async () => {
    const rt = runtimeFor(db, { d: dataset({ key: ['id'], batch: { output: 'lv.b' }, stream: { output: 'lv.s' } }) });
    try {
      const [r] = await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 10, store: true });
      expect(r.verdict).toBe('mismatch');
      expect(r.id).not.toBeNull();
      const byId = Object.fromEntries((r.diff?.samples ?? []).map((s) => [String(s.key.id), s.columns]));
      expect(Object.keys(byId).sort()).toEqual(['1', '2', '3']);
      const doc = byId['1']!.doc;
      expect(doc.batch).toMatch(/^x{1024}\.\.\. \(200001 characters, sha256 [0-9a-f]{32}\)$/);
      expect(doc.stream).toMatch(/^x{1024}\.\.\. \(200001 characters, sha256 [0-9a-f]{32}\)$/);
      expect(doc.batch).not.toBe(doc.stream);
      expect(byId['2']).toEqual({ n: { batch: '1', stream: '2' } });
      expect(byId['3']!.doc).toEqual({ batch: 'short', stream: 'shorter' });
      const stored = await db.pool.query<{ n: number }>(`SELECT max(length(result::text))::int AS n FROM dualrun.reconciliations`);
      expect(stored.rows[0].n).toBeLessThan(20000);
    } finally { await rt.close(); }
  });

  it('values up to 4096 bytes are kept whole; a longer one differing only past its start still differs, in every drill-down', async () => {
    await db.pool.query(`CREATE TABLE lv.kb (id int PRIMARY KEY, doc text); CREATE TABLE lv.ks (LIKE lv.kb INCLUDING ALL);
      INSERT INTO lv.kb SELECT g, repeat('é', 2048) || g FROM generate_series(1, 3) g; INSERT INTO lv.ks SELECT g, repeat('é', 2048) || g FROM generate_series(1, 3) g;
      UPDATE lv.kb SET doc = repeat('z', 5000) || 'a' WHERE id = 1; UPDATE lv.ks SET doc = repeat('z', 5000) || 'b' WHERE id = 1;
      UPDATE lv.ks SET doc = doc || '!' WHERE id = 2;`);
    // buckets: 1 puts every row in one mismatched bucket, so the keyed drill-down runs (primary keys, most rows mismatched).
    for (const [name, extra] of [['bucketed', {}], ['keyed', { reconcile: { buckets: 1 } }]] as const) {
      const rt = runtimeFor(db, { d: dataset({ key: ['id'], batch: { output: 'lv.kb' }, stream: { output: 'lv.ks' }, ...extra }) });
      try {
        const [r] = await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 10, store: false });
        expect(r.diff?.samples.map((x) => String(x.key.id)), name).toEqual(['1', '2']);
        const two = r.diff!.samples[1].columns!.doc;
        expect(two.batch, name).toMatch(/^é{1024}\.\.\. \(2049 characters, sha256 [0-9a-f]{32}\)$/);
        expect(two.stream).toMatch(/^é{1024}\.\.\. \(2050 characters, sha256 [0-9a-f]{32}\)$/);
      } finally { await rt.close(); }
    }
  });
});
