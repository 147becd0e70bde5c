/**
 * One dataset's streaming pipeline: prepare the output table, load the schema and
 * transform, then let the transport feed batches to the exactly-once sink until
 * stopped (or idle with --until-idle).
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { AttemptSession } from '../src/core/reconnect-policy.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { createPool, type Pool } from '../src/core/db/connect.ts';
import { applyOneBatch, CollectingSink, COLLECTING_DEFAULTS, collectingApplies, type CommittedWork } from './collecting-sink.ts';
import type { SinkDeps } from './exactly-once-sink.ts';
import type { BatchAck, BatchContext, SourceBatch, Transport, TransportRunOptions } from './transport.ts';
import { mergeStatements } from './output-merge.ts';
import { prepareOutputTable } from './output-table.ts';
import { markHeadSeen } from './positions.ts';
import { loadValidator } from './record-validator.ts';
import { streamDatabase } from './stream-database.ts';
import { ThroughputMeter } from './throughput-meter.ts';
import { streamObserver } from './stream-observer.ts';
import { loadTransform } from './transform-module.ts';
import { transportFor, type TransportTuning } from './transport-for-dataset.ts';
import { boundHeapGrowth } from '../src/core/bounded-heap.ts';

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
  const output = await prepareOutputTable(db, ds.stream.output, ds.key, { file: rt.config.path, dataset: ds.name });
  opts.session?.connected('postgres');
  const transform = await loadTransform(ds.stream.transform);
  const merge = mergeStatements(output, { guardVersions: transform.stateKey === null });
  // A Kafka backlog is collected into one transaction per partition (collecting-sink.ts); the rest applies batch by batch.
  const collects = rt.config.kafka !== null && collectingApplies({ transform, merge });
  const { transport, decode } = await transportFor(rt, ds, db, { ...opts.tuning, collecting: collects });
  const deps: SinkDeps = {
    db, dataset: ds.name, key: ds.key, source: transport.source, committed: new Map(), merge,
    decode, validate: loadValidator(ds.stream.schema), transform,
  };
  const meter = new ThroughputMeter(rt.log, ds.name);
  const observe = streamObserver(rt, ds);
  rt.log.info({ dataset: ds.name, transport: transport.kind, source: transport.source, output: ds.stream.output.text }, 'stream started');
  // Counts, metrics and the debug line for each committed transaction (or batch).
  const report = (w: CommittedWork) => {
    meter.add(w.outcome, w.records, w.lagRecords);
    observe.batch({ partition: w.partition, records: [], headSeenAt: w.headSeenAt, lagRecords: w.lagRecords }, w.outcome, w.seconds);
    opts.session?.progressed();
    rt.log.debug({ dataset: ds.name, partition: w.partition, records: w.records, ms: Math.round(w.seconds * 1000), ...w.outcome.phases }, 'batch applied');
  };
  const collecting = collects && transport.kind === 'kafka' ? collectingSink(db, deps, report) : null;
  const handle = async (batch: SourceBatch, ctx?: BatchContext): Promise<BatchAck | void> => {
    meter.begin();
    if (collecting) return collecting.sink.handle(batch, ctx);
    report(await applyOneBatch(deps, batch));
  };
  const runOptions: TransportRunOptions = {
    signal: opts.signal,
    untilIdle: opts.untilIdle,
    onIdle: async (partitions, at) => { observe.idle(partitions); await markHeadSeen(db, ds.name, transport.source, partitions, at); opts.session?.progressed(); },
    onConnected: (service) => opts.session?.connected(service),
    onRevoked: (partitions) => collecting?.sink.release(partitions),
    connectBudgetMs: () => opts.session?.budgetMs() ?? Number.POSITIVE_INFINITY,
  };
  try {
    await runTransport(transport, handle, collecting?.sink ?? null, runOptions);
  } finally {
    await collecting?.pool.end().catch(() => undefined);
  }
  const summary = { ...meter.summary(), ...observe.summary() };
  rt.log.info(summary, 'stream stopped');
  return summary;
}

/** The collecting sink with connections of its own: one per open partition transaction. */
function collectingSink(db: Pool, deps: SinkDeps, onCommitted: (w: CommittedWork) => void): { sink: CollectingSink; pool: Pool } {
  const pool = createPool(String(db.options.connectionString), { max: COLLECTING_DEFAULTS.maxOpen, applicationName: `dualrun stream ${deps.dataset}` });
  return { sink: new CollectingSink(deps, { ...COLLECTING_DEFAULTS, pool, onCommitted }), pool };
}

/** Runs the transport; open transactions commit when it stops cleanly and roll back when it fails. */
async function runTransport(transport: Transport, handle: (b: SourceBatch, ctx?: BatchContext) => Promise<BatchAck | void>,
  sink: CollectingSink | null, opts: TransportRunOptions): Promise<void> {
  try {
    await transport.run(handle, opts);
  } catch (e) {
    await sink?.close(false).catch(() => undefined);
    throw e;
  }
  await sink?.close(true);
}
