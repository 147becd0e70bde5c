/**
 * `capture: logical` with Kafka configured: `dualrun capture` relays the slot's
 * changes (after the first snapshot) to the dataset's topic in Debezium shape.
 * At least once, like the trigger relay: a page is sent and acknowledged by all
 * replicas before the slot is advanced past it, so a crash between the two resends
 * it with the same versions (harmless for rows; see docs/streaming.md).
 * The relay's own snapshot progress is kept in stream_positions (source `relay:logical:<table>`).
 */
import kafkajs from 'kafkajs';
import type { TableRef } from '../../src/core/identifiers.ts';
import { readPositions } from '../positions.ts';
import { BEFORE_EVERYTHING } from '../transport.ts';
import { ensureTopic, send, type RelayOptions } from './kafka-relay.ts';
import { followLogical, readSnapshot } from './logical-reader.ts';
import { logicalNames } from './logical-slot.ts';
import { isStopped } from '../../src/core/stopped.ts';

const { Partitioners } = kafkajs;

/** The trigger relay's options, with the source table as a reference (the slot is named by the dataset). */
export type LogicalRelayOptions = Omit<RelayOptions, 'table' | 'brokers' | 'connectTimeoutMs'> & { readonly table: TableRef };

export async function relayLogical(o: LogicalRelayOptions): Promise<{ relayed: number }> {
  const source = `relay:logical:${o.table.text}`;
  const limit = o.batchSize ?? 5000;
  await ensureTopic(o.kafka, o.topic);
  const producer = o.kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  o.session?.connected('kafka');
  let relayed = 0;
  try {
    let snap = (await readPositions(o.db, o.dataset, source)).get(1) ?? BEFORE_EVERYTHING;
    o.session?.connected('postgres');
    while (!o.signal.aborted) {
      const page = await readSnapshot(o.db, o.dataset, o.table, snap, limit);
      if (page.records.length > 0) {
        await send(producer, o, page.records);
        snap = page.records[page.records.length - 1].position;
        await o.db.query(
          `INSERT INTO dualrun.stream_positions (dataset, source, partition, position, sub_position, updated_at) VALUES ($1, $2, 1, $3, 0, now())
           ON CONFLICT (dataset, source, partition) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
          [o.dataset, source, snap.major.toString()]);
        relayed += page.records.length;
      }
      if (page.done) break;
    }
    const pages = followLogical(o.db, BEFORE_EVERYTHING, { ...logicalNames(o.dataset), table: o.table, limit, pollMs: 100, signal: o.signal, untilIdle: o.untilIdle });
    for await (const page of pages) {
      o.session?.progressed();
      if (page.records.length > 0) await send(producer, o, page.records);
      await page.confirm();
      relayed += page.records.length;
    }
  } catch (e) {
    // Stopped while waiting for the slot: what was sent and not confirmed is sent again next time (at least once).
    if (!isStopped(e, o.signal)) throw e;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  o.log.info({ dataset: o.dataset, table: o.table.text, topic: o.topic, relayed }, 'logical relay stopped');
  return { relayed };
}
