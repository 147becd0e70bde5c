/**
 * The transport for `capture: logical` without Kafka: the first snapshot
 * (partition 1, from dualrun.capture_snapshots) then the dataset's replication
 * slot (partition 0), both in Debezium shape. The slot is advanced only after the
 * sink committed a page (see capture/logical-reader.ts), and the sink skips what
 * its stored positions already hold, so the pair is exactly-once.
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import { followLogical, readSnapshot } from './capture/logical-reader.ts';
import { logicalNames } from './capture/logical-slot.ts';
import { readPositions } from './positions.ts';
import { BEFORE_EVERYTHING, type SourceBatch, type Transport, type TransportRunOptions } from './transport.ts';

export interface LogicalTransportOptions {
  /** The database holding the source table, its slot and dualrun's capture tables. */
  readonly sourceDb: Pool;
  /** Where positions are stored (the output's database). */
  readonly stateDb: Pool;
  readonly dataset: string;
  readonly table: TableRef;
  readonly batchSize?: number;
  readonly pollMs?: number;
}

export const SLOT_PARTITION = 0;
export const SNAPSHOT_PARTITION = 1;

export function logicalSourceName(table: string): string {
  return `logical:${table}`;
}

export function logicalTransport(o: LogicalTransportOptions): Transport {
  const source = logicalSourceName(o.table.text);
  const limit = o.batchSize ?? 5000;
  return {
    kind: 'logical',
    source,
    async run(handle: (b: SourceBatch) => Promise<void>, opts: TransportRunOptions) {
      const stored = await readPositions(o.stateDb, o.dataset, source);
      // The snapshot first: it carries version 0, so whatever the slot decodes wins anyway.
      let snap = stored.get(SNAPSHOT_PARTITION) ?? BEFORE_EVERYTHING;
      while (!opts.signal.aborted) {
        const page = await readSnapshot(o.sourceDb, o.dataset, o.table, snap, limit);
        if (page.records.length > 0) {
          await handle({ partition: SNAPSHOT_PARTITION, records: page.records, headSeenAt: page.done ? new Date() : null, lagRecords: null });
          snap = page.records[page.records.length - 1].position;
        }
        if (page.done) break;
      }
      const names = logicalNames(o.dataset);
      const from = stored.get(SLOT_PARTITION) ?? BEFORE_EVERYTHING;
      const pages = followLogical(o.sourceDb, from, { ...names, table: o.table, limit, pollMs: o.pollMs ?? 100, signal: opts.signal, untilIdle: opts.untilIdle });
      for await (const page of pages) {
        if (page.records.length > 0) {
          await handle({ partition: SLOT_PARTITION, records: page.records, headSeenAt: page.headSeenAt, lagRecords: null });
          // The finished snapshot must not hold the watermark back: it keeps pace with the slot.
          await opts.onIdle?.([SNAPSHOT_PARTITION], page.headSeenAt ?? page.records[page.records.length - 1].timestamp);
        } else if (page.headSeenAt) {
          await opts.onIdle?.([SLOT_PARTITION, SNAPSHOT_PARTITION], page.headSeenAt);
        }
        await page.confirm();
      }
    },
  };
}
