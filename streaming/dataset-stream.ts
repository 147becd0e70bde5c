/**
 * One dataset's streaming pipeline: prepare the output table, load the schema and
 * transform, then let the transport feed batches to the exactly-once sink until
 * stopped (or idle with --until-idle).
 */
import type { DatasetConfig } from '../src/config/types.ts';
import type { AttemptSession } from '../src/reconnect-policy.ts';
import type { Runtime } from '../src/runtime.ts';
import { applyBatch, type SinkDeps } from './exactly-once-sink.ts';
import { mergeStatements } from './output-merge.ts';
import { prepareOutputTable } from './output-table.ts';
import { markHeadSeen } from './positions.ts';
import { loadValidator } from './record-validator.ts';
import { streamDatabase } from './stream-database.ts';
import { ThroughputMeter } from './throughput-meter.ts';
import { streamObserver } from './stream-observer.ts';
import { loadTransform } from './transform-module.ts';
import { transportFor, type TransportTuning } from './transport-for-dataset.ts';
import { boundHeapGrowth } from '../src/bounded-heap.ts';

export interface DatasetStreamOptions {
  readonly signal: AbortSignal;
  readonly untilIdle: boolean;
  readonly tuning?: TransportTuning;
  /** From the reconnect policy: told when services answered and when work moved. */
  readonly session?: AttemptSession;
}

export async function streamDataset(rt: Runtime, ds: DatasetConfig, opts: DatasetStreamOptions): Promise<Record<string, unknown>> {
  boundHeapGrowth();
  const db = await streamDatabase(rt, ds);
  const output = await prepareOutputTable(db, ds.stream.output, ds.key);
  opts.session?.connected('postgres');
  const { transport, decode } = await transportFor(rt, ds, db, opts.tuning);
  const transform = await loadTransform(ds.stream.transform);
  const deps: SinkDeps = {
    db, dataset: ds.name, key: ds.key, source: transport.source, committed: new Map(),
    merge: mergeStatements(output, { guardVersions: transform.stateKey === null }),
    decode, validate: loadValidator(ds.stream.schema), transform,
  };
  const meter = new ThroughputMeter(rt.log, ds.name);
  const observe = streamObserver(rt, ds);
  rt.log.info({ dataset: ds.name, transport: transport.kind, source: transport.source, output: ds.stream.output.text }, 'stream started');
  await transport.run(async (batch) => {
    meter.begin();
    const started = performance.now();
    const outcome = await applyBatch(deps, batch);
    meter.add(outcome, batch.records.length, batch.lagRecords);
    observe.batch(batch, outcome, (performance.now() - started) / 1000);
    opts.session?.progressed();
    rt.log.debug({ dataset: ds.name, partition: batch.partition, records: batch.records.length, ms: Math.round(performance.now() - started), ...outcome.phases }, 'batch applied');
  }, {
    signal: opts.signal,
    untilIdle: opts.untilIdle,
    onIdle: async (partitions, at) => { observe.idle(partitions); await markHeadSeen(db, ds.name, transport.source, partitions, at); opts.session?.progressed(); },
    onConnected: (service) => opts.session?.connected(service),
    connectBudgetMs: () => opts.session?.budgetMs() ?? Number.POSITIVE_INFINITY,
  });
  const summary = { ...meter.summary(), ...observe.summary() };
  rt.log.info(summary, 'stream stopped');
  return summary;
}
