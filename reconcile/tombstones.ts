/**
 * Stream tombstones (`dualrun.stream_tombstones`, the streaming path's
 * migration): when the stream deleted a key. A key missing in the stream that
 * was deleted after the batch snapshot is in flight, not a mismatch. The table
 * may not exist (streaming not installed yet): then nothing is in flight by
 * deletion. It is looked for beside the stream output first (the sink writes it
 * in the same transaction), then in the toolkit database.
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { TombstoneLookup } from './diff-accumulator.ts';

export async function tombstoneLookup(pools: Pool[], dataset: string): Promise<TombstoneLookup | null> {
  for (const pool of pools) {
    const r = await pool.query<{ t: string | null }>(`SELECT to_regclass('dualrun.stream_tombstones')::text AS t`);
    if (r.rows[0].t) return (keys) => lookup(pool, dataset, keys);
  }
  return null;
}

async function lookup(pool: Pool, dataset: string, keys: string[]): Promise<Map<string, Date>> {
  const r = await pool.query<{ i: string; ts: Date }>(
    `SELECT q.i, max(t.source_ts) AS ts
       FROM unnest($2::jsonb[]) WITH ORDINALITY AS q(k, i)
       JOIN dualrun.stream_tombstones t ON t.dataset = $1 AND t.record_key = q.k
      GROUP BY q.i`,
    [dataset, keys],
  );
  const out = new Map<string, Date>();
  for (const row of r.rows) if (row.ts) out.set(keys[Number(row.i) - 1], row.ts);
  return out;
}
