/**
 * The embedded default transport: reads a source table's rows of
 * `dualrun.changelog` (written by `dualrun capture` triggers) as one partition (0),
 * in Debezium shape, so the same decoder serves both transports.
 */
import type { Pool } from '../src/db/connect.ts';
import { hasUnreadableChanges, readChangelog } from './capture/changelog-reader.ts';
import { readPositions } from './positions.ts';
import { BEFORE_EVERYTHING, type Position, type SourceBatch, type Transport, type TransportRunOptions } from './transport.ts';

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
}

export function changelogTransport(o: ChangelogTransportOptions): Transport {
  const source = `changelog:${o.table}`;
  return {
    kind: 'changelog',
    source,
    async run(handle: (b: SourceBatch) => Promise<void>, opts: TransportRunOptions) {
      let cursor: Position = (await readPositions(o.stateDb, o.dataset, source)).get(0) ?? BEFORE_EVERYTHING;
      while (!opts.signal.aborted) {
        const page = await readChangelog(o.changelogDb, o.table, cursor, o.batchSize ?? 5000);
        if (page.records.length > 0) {
          await handle({ partition: 0, records: page.records, headSeenAt: page.headSeenAt, lagRecords: null });
          cursor = page.records[page.records.length - 1].position;
          continue;
        }
        if (page.headSeenAt) await opts.onIdle?.([0], page.headSeenAt);
        // Idle means nothing committed is left, not merely nothing readable yet.
        if (opts.untilIdle && !(await hasUnreadableChanges(o.changelogDb, o.table, cursor))) return;
        await sleep(o.pollMs ?? 100, opts.signal);
      }
    },
  };
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
