/**
 * Records behind the stored position of a changelog-read dataset. The changelog
 * transport does not know its lag from a page, so the heartbeat counts it, capped
 * (an index range scan on (source_table, tx_id, id); beyond the cap "at least").
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { changelogSourceName } from './changelog-transport.ts';
import { streamDatabase } from './stream-database.ts';

export const CHANGELOG_LAG_CAP = 1_000_000;

/** null when the dataset is not read from the trigger changelog (Kafka reports its own lag; a logical slot is not counted). */
export async function changelogLag(rt: Runtime, ds: DatasetConfig): Promise<number | null> {
  const src = ds.stream.source;
  if (rt.config.kafka || !src || src.kind !== 'table' || src.capture === 'logical') return null;
  const table = src.table.text;
  const pos = await (await streamDatabase(rt, ds)).query<{ position: string; sub_position: string }>(
    'SELECT position::text, sub_position::text FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2 AND partition = 0', [ds.name, changelogSourceName(table)]);
  const at = pos.rows[0] ?? { position: '-1', sub_position: '0' };
  const r = await (await rt.db()).query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM dualrun.changelog WHERE source_table = $1 AND (tx_id, id) > ($2::bigint, $3::bigint) LIMIT ${CHANGELOG_LAG_CAP}) x`,
    [table, at.position, at.sub_position]);
  return r.rows[0].n;
}
