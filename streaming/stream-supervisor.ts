/**
 * `dualrun stream`: runs a pipeline for every selected dataset whose stage runs
 * the streaming path (shadow or later), re-reading stages every few seconds so a
 * promotion or rollback starts or stops a dataset without a restart. Each pipeline
 * and the stage poll run under the reconnect policy (src/core/reconnect-policy.ts): a
 * lost Postgres or broker is retried with back-off and resumed from the stored
 * positions, up to the configured limit, then the worker exits 3 naming the
 * service; a config error or a bug stops the worker at once.
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import { DualrunError, toDualrunError } from '../src/core/errors.ts';
import { policyFor } from '../src/core/reconnect-policy.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { pathsRunning, readStages } from '../src/core/stages.ts';
import { sleep } from './abortable-sleep.ts';
import { streamDataset } from './dataset-stream.ts';
import type { TransportTuning } from './transport-for-dataset.ts';

export interface StreamWorkerOptions {
  readonly datasets: readonly string[];
  readonly untilIdle: boolean;
  readonly stagePollMs?: number;
  readonly tuning?: TransportTuning;
}

export interface StreamWorkerResult {
  readonly ran: Record<string, unknown>[];
  /** Datasets not streamed because their stage is `batch`. */
  readonly skipped: string[];
}

interface Running { stop: AbortController; done: Promise<void> }

export async function runStreamWorker(rt: Runtime, opts: StreamWorkerOptions): Promise<StreamWorkerResult> {
  const all = opts.datasets.map((n) => rt.dataset(n));
  const running = new Map<string, Running>();
  const ran: Record<string, unknown>[] = [];
  let fatal: DualrunError | null = null;
  let skipped: string[] = [];
  const stop = new AbortController(); // a fatal error in one dataset stops the others
  const start = (ds: DatasetConfig) => {
    const mine = new AbortController();
    const signal = AbortSignal.any([rt.signal, stop.signal, mine.signal]);
    const done = superviseOne(rt, ds, signal, opts, (s) => ran.push(s)).catch((e) => { fatal ??= toDualrunError(e); stop.abort(); })
      .finally(() => { if (running.get(ds.name)?.stop === mine) running.delete(ds.name); });
    running.set(ds.name, { stop: mine, done });
  };
  const stagePolicy = policyFor(rt, 'stream (stage poll)');
  const loop = AbortSignal.any([rt.signal, stop.signal]);
  while (!loop.aborted && !fatal) {
    let stages;
    try {
      stages = await stagePolicy.run(async (session) => {
        const db = await rt.db();
        session.connected('postgres');
        const st = await readStages(db, all.map((d) => d.name));
        session.progressed();
        return st;
      }, loop);
    } catch (e) {
      if (loop.aborted) break;
      fatal ??= toDualrunError(e);
      stop.abort();
      break;
    }
    const wanted = all.filter((d) => pathsRunning(stages.get(d.name)!).stream);
    skipped = all.filter((d) => !wanted.includes(d)).map((d) => d.name);
    for (const [name, r] of running) if (!wanted.some((d) => d.name === name)) { rt.log.info({ dataset: name }, 'stage no longer streams: stopping'); r.stop.abort(); }
    for (const ds of wanted) if (!running.has(ds.name)) start(ds);
    if (opts.untilIdle) break;
    await sleep(opts.stagePollMs ?? 2000, loop);
  }
  if (skipped.length > 0) rt.log.warn({ datasets: skipped }, 'not streamed: stage is batch (promote to shadow to start the streaming path)');
  await Promise.all([...running.values()].map((r) => r.done));
  if (fatal) { rt.health.end('failed', (fatal as DualrunError).message); throw fatal; }
  rt.health.end('stopped');
  return { ran, skipped };
}

/** Runs one dataset under the reconnect policy until stopped (or idle). */
async function superviseOne(rt: Runtime, ds: DatasetConfig, signal: AbortSignal, opts: StreamWorkerOptions, report: (s: Record<string, unknown>) => void): Promise<void> {
  const policy = policyFor(rt, `stream ${ds.name}`, ds.name);
  try {
    report(await policy.run((session) => streamDataset(rt, ds, { signal, untilIdle: opts.untilIdle, tuning: opts.tuning, session }), signal));
  } catch (e) {
    if (!signal.aborted) throw e; // stopped (SIGTERM, stage change) while reconnecting: nothing in flight
  }
}
