/**
 * Keyed state of stateful transforms (dualrun.keyed_state): loaded for a batch in
 * one query and saved in the same transaction as the rows and the position, so a
 * crash can neither lose nor double-count an update.
 */
import type { PoolClient } from '../src/core/db/connect.ts';

/**
 * Locks the keys (transaction advisory locks, in sorted order so two batches never
 * wait on each other in a cycle) and reads their state: two partitions applied at
 * once may share a state key, and the second must see the first one's update.
 */
export async function loadKeyedState(c: PoolClient, dataset: string, keys: string[]): Promise<Map<string, unknown>> {
  const sorted = [...keys].sort();
  await c.query(`SELECT count(pg_advisory_xact_lock(hashtextextended($1 || '/' || k, 1))) FROM unnest($2::text[]) WITH ORDINALITY AS u(k, n)`, [dataset, sorted]);
  const r = await c.query<{ state_key: string; value: unknown }>(
    'SELECT state_key, value FROM dualrun.keyed_state WHERE dataset = $1 AND state_key = ANY($2)', [dataset, keys]);
  return new Map(r.rows.map((row) => [row.state_key, row.value]));
}

export async function saveKeyedState(c: PoolClient, dataset: string, writes: Map<string, unknown>): Promise<void> {
  if (writes.size === 0) return;
  const keys = [...writes.keys()];
  await c.query(
    `INSERT INTO dualrun.keyed_state AS s (dataset, state_key, value, updated_at)
     SELECT $1, k, v::jsonb, now() FROM unnest($2::text[], $3::text[]) AS u(k, v)
     ON CONFLICT (dataset, state_key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [dataset, keys, keys.map((k) => JSON.stringify(writes.get(k) ?? null))]);
}
