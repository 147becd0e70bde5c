/**
 * The embedded default transport: reads a source table's rows of
 * `dualrun.changelog` (written by `dualrun capture` triggers) as one partition (0),
 * in Debezium shape, so the same decoder serves both transports. With `prune`, it
 * also prunes the rows every consumer has read, now and then (periodic-prune.ts).
 */
import type { Pool } from '../src/core/db/connect.ts';
import { followChangelog } from './capture/changelog-reader.ts';
import type { PeriodicPrune } from './capture/periodic-prune.ts';
import { readPositions } from './positions.ts';
import { BEFORE_EVERYTHING, type SourceBatch, type Transport, type TransportRunOptions } from './transport.ts';

export interface ChangelogTransportOptions {
  /** The toolkit database holding dualrun.changelog. */
  readonly changelogDb: Pool;
  /** Where positions are stored (the output's database). */
  readonly stateDb: Pool;
  readonly dataset: string;
  /** `schema.table` as recorded by the capture trigger. */
  readonly table: string;
  readonly batchSize?: number;
  readonly pollMs?: number;
  readonly prune?: PeriodicPrune;
}

/** The `source` under which positions of a changelog-read table are stored. */
export function changelogSourceName(table: string): string {
  return `changelog:${table}`;
}

export function changelogTransport(o: ChangelogTransportOptions): Transport {
  const source = changelogSourceName(o.table);
  return {
    kind: 'changelog',
    source,
    async run(handle: (b: SourceBatch) => Promise<void>, opts: TransportRunOptions) {
      const stored = async () => (await readPositions(o.stateDb, o.dataset, source)).get(0) ?? BEFORE_EVERYTHING;
      const pages = followChangelog(o.changelogDb, o.table, await stored(), { limit: o.batchSize ?? 5000, pollMs: o.pollMs ?? 100, signal: opts.signal, untilIdle: opts.untilIdle, stored });
      try {
        for await (const page of pages) {
          if (page.records.length > 0) await handle({ partition: 0, records: page.records, headSeenAt: page.headSeenAt, lagRecords: null });
          else if (page.headSeenAt) await opts.onIdle?.([0], page.headSeenAt);
          o.prune?.kick(opts.signal);
        }
      } catch (e) {
        await o.prune?.finish(false, opts.signal);
        throw e;
      }
      await o.prune?.finish(opts.untilIdle, opts.signal);
    },
  };
}
