/**
 * Which transport and decoder a dataset uses:
 *   - `{ topic, format }` needs `kafka` in the config: Kafka, decoded as `format`;
 *   - `{ table }` with `kafka`: `dualrun capture` relays the changelog to
 *     `source.topic` in Debezium shape, and the worker consumes that topic;
 *   - `{ table }` without `kafka` (the embedded default): the worker reads
 *     `dualrun.changelog` directly, or with `capture: logical` the dataset's
 *     replication slot.
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { DualrunError } from '../src/core/errors.ts';
import { requireStreamSource } from '../src/core/config/stream-source.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { changelogTransport } from './changelog-transport.ts';
import { decoderFor, type Decoder } from './decoder.ts';
import { createKafka, groupIdFor } from './kafka-client.ts';
import { FETCH_BATCHED, FETCH_COLLECTED, kafkaTransport } from './kafka-transport.ts';
import { logicalTransport } from './logical-transport.ts';
import { periodicPrune } from './capture/periodic-prune.ts';
import type { Transport } from './transport.ts';

export interface TransportTuning {
  readonly batchSize?: number;
  readonly sessionTimeout?: number;
  /** Kafka: the batches go to the collecting sink (smaller fetches, see kafka-transport.ts). */
  readonly collecting?: boolean;
}

export async function transportFor(rt: Runtime, ds: DatasetConfig, stateDb: Pool, tuning: TransportTuning = {}): Promise<{ transport: Transport; decode: Decoder }> {
  const src = requireStreamSource(ds);
  const kafka = rt.config.kafka;
  if (kafka) {
    const transport = kafkaTransport({
      kafka: createKafka(kafka, rt.log), groupId: groupIdFor(kafka, ds.name), topic: src.topic, dataset: ds.name, stateDb, log: rt.log,
      sessionTimeout: tuning.sessionTimeout ?? kafka.sessionTimeoutMs, brokers: kafka.brokers, ...(tuning.collecting ? FETCH_COLLECTED : FETCH_BATCHED),
      connectTimeoutMs: kafka.connectTimeoutMs, stallTimeoutMs: kafka.stallTimeoutMs, onStall: (r) => rt.health.stalled(r),
    });
    return { transport, decode: decoderFor(src.kind === 'topic' ? src.format : 'debezium') };
  }
  if (src.kind === 'table' && src.capture === 'logical') {
    return { transport: logicalTransport({ sourceDb: await rt.db(), stateDb, dataset: ds.name, table: src.table, batchSize: tuning.batchSize }), decode: decoderFor('debezium') };
  }
  return {
    transport: changelogTransport({
      changelogDb: await rt.db(), stateDb, dataset: ds.name, table: changelogTable(ds), batchSize: tuning.batchSize, prune: periodicPrune(rt, changelogTable(ds)),
    }),
    decode: decoderFor('debezium'),
  };
}

/** The source table a dataset reads through the changelog (no `kafka` configured); a topic source is a config error. */
export function changelogTable(ds: DatasetConfig): string {
  const src = requireStreamSource(ds);
  if (src.kind === 'topic') {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${ds.name}.stream.source: topic ${src.topic} needs a \`kafka\` section (or use { table: ... } for the built-in changelog)`);
  }
  return src.table.text;
}
