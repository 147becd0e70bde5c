/**
 * Who still needs a source table's trigger changelog, and from where.
 *
 * Every configured dataset whose `stream.source` is that table with trigger capture
 * reads it: without `kafka` its stream worker reads it directly (position under
 * `changelog:<table>` in the dataset's stream database), with `kafka` the capture
 * relay does (position under `relay:<table>` in the toolkit database); several
 * datasets can share one table. A reader stands at its stored position, the last
 * row it committed: it never reads that row or anything before it again, because
 * it reads past it only from transactions that had all finished (see
 * changelog-reader.ts). A reader with no position yet still needs everything.
 */
import type { DatasetConfig } from '../../src/core/config/types.ts';
import type { Pool } from '../../src/core/db/connect.ts';
import type { Runtime } from '../../src/core/runtime.ts';
import { changelogSourceName } from '../changelog-transport.ts';
import { readPositions } from '../positions.ts';
import { streamDatabase } from '../stream-database.ts';
import { comparePositions, type Position } from '../transport.ts';

export interface ChangelogConsumer {
  /** For messages: `dataset orders` or `capture relay orders`. */
  readonly name: string;
  readonly dataset: string;
  readonly source: string;
  readonly db: Pool;
}

export interface ChangelogReaders {
  readonly table: string;
  readonly datasets: readonly string[];
  readonly consumers: readonly ChangelogConsumer[];
  /** The longest `changelogRetention` among the datasets (ms), or `forever`. */
  readonly retention: number | 'forever';
}

/** The stored source name of the capture relay of a table. */
export function relaySourceName(table: string): string {
  return `relay:${table}`;
}

/** The trigger-captured source table a dataset reads, or null. */
export function triggerTable(ds: DatasetConfig): string | null {
  const s = ds.stream.source;
  return !ds.stream.adopted && s?.kind === 'table' && s.capture === 'trigger' ? s.table.text : null;
}

export async function changelogReaders(rt: Runtime, table: string): Promise<ChangelogReaders> {
  const datasets = Object.keys(rt.config.datasets).map((n) => rt.dataset(n)).filter((ds) => triggerTable(ds) === table);
  const consumers: ChangelogConsumer[] = [];
  for (const ds of datasets) {
    consumers.push(rt.config.kafka
      ? { name: `capture relay ${ds.name}`, dataset: ds.name, source: relaySourceName(table), db: await rt.db() }
      : { name: `dataset ${ds.name}`, dataset: ds.name, source: changelogSourceName(table), db: await streamDatabase(rt, ds) });
  }
  let retention: number | 'forever' = 0;
  for (const ds of datasets) {
    const r = ds.stream.source?.kind === 'table' ? ds.stream.source.changelogRetention : 0;
    retention = retention === 'forever' || r === 'forever' ? 'forever' : Math.max(retention, r);
  }
  return { table, datasets: datasets.map((d) => d.name), consumers, retention };
}

export interface OldestRead {
  /** null: `by` has not read anything yet (everything is still needed). */
  readonly position: Position | null;
  readonly by: string;
}

/**
 * The oldest stored position among the consumers (each read on its own: a position
 * only moves forward outside a replay, and replays exclude pruning).
 */
export async function oldestRead(consumers: readonly ChangelogConsumer[]): Promise<OldestRead> {
  let oldest: OldestRead | null = null;
  for (const c of consumers) {
    const p = (await readPositions(c.db, c.dataset, c.source)).get(0);
    if (!p) return { position: null, by: c.name };
    if (!oldest || comparePositions(p, oldest.position!) < 0) oldest = { position: p, by: c.name };
  }
  return oldest ?? { position: null, by: 'no dataset' };
}
