/**
 * `dualrun stream`: runs a pipeline for every selected dataset whose stage runs
 * the streaming path (shadow or later), re-reading stages every few seconds so a
 * promotion or rollback starts or stops a dataset without a restart. A pipeline
 * that fails with a retryable error (database or broker gone) restarts after a
 * back-off; a config error stops the worker.
 */
import type { DatasetConfig } from '../src/config/types.ts';
import { DualrunError, toDualrunError } from '../src/errors.ts';
import { isConnectFailure } from '../src/db/connect.ts';
import type { Runtime } from '../src/runtime.ts';
import { pathsRunning, readStages } from '../src/stages.ts';
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
  const start = (ds: DatasetConfig) => {
    const stop = new AbortController();
    const signal = AbortSignal.any([rt.signal, stop.signal]);
    const done = superviseOne(rt, ds, signal, opts, (s) => ran.push(s)).catch((e) => { fatal ??= toDualrunError(e); })
      .finally(() => { if (running.get(ds.name)?.stop === stop) running.delete(ds.name); });
    running.set(ds.name, { stop, done });
  };
  while (!rt.signal.aborted && !fatal) {
    const stages = await readStages(await rt.db(), all.map((d) => d.name));
    const wanted = all.filter((d) => pathsRunning(stages.get(d.name)!).stream);
    skipped = all.filter((d) => !wanted.includes(d)).map((d) => d.name);
    for (const [name, r] of running) if (!wanted.some((d) => d.name === name)) { rt.log.info({ dataset: name }, 'stage no longer streams: stopping'); r.stop.abort(); }
    for (const ds of wanted) if (!running.has(ds.name)) start(ds);
    if (opts.untilIdle) break;
    await sleep(opts.stagePollMs ?? 2000, rt.signal);
  }
  if (skipped.length > 0) rt.log.warn({ datasets: skipped }, 'not streamed: stage is batch (promote to shadow to start the streaming path)');
  await Promise.all([...running.values()].map((r) => r.done));
  if (fatal) throw fatal;
  return { ran, skipped };
}

/** Runs one dataset, restarting it after retryable failures until stopped. */
async function superviseOne(rt: Runtime, ds: DatasetConfig, signal: AbortSignal, opts: StreamWorkerOptions, report: (s: Record<string, unknown>) => void): Promise<void> {
  let backoff = 500;
  let failures = 0;
  while (!signal.aborted) {
    try {
      report(await streamDataset(rt, ds, { signal, untilIdle: opts.untilIdle, tuning: opts.tuning }));
      return;
    } catch (e) {
      const err = classify(e);
      const restart = err.details.restart === true;
      if (!err.retryable && !restart) throw err;
      // A run to idle is a batch job: after a few failed attempts in a row, report it.
      if (!restart && opts.untilIdle && ++failures >= 5) throw err;
      rt.log.warn({ dataset: ds.name, err: { code: err.code, message: err.message } }, restart ? 'restarting the stream' : `stream failed, retrying in ${backoff} ms`);
      await sleep(restart ? 0 : backoff, signal);
      backoff = restart ? backoff : Math.min(backoff * 2, 30_000);
    }
  }
}

/** Lost connections and broker trouble are worth a retry; anything else (a bug, bad config) is not. */
function classify(e: unknown): DualrunError {
  if (e instanceof DualrunError) return e;
  const name = (e as { name?: string })?.name ?? '';
  // 40001/40P01: serialization failure or deadlock; the batch is retried from its stored position.
  const sqlstate = (e as { code?: string })?.code ?? '';
  if (isConnectFailure(e) || name.startsWith('KafkaJS') || sqlstate === '40001' || sqlstate === '40P01') return new DualrunError('DUALRUN_STREAM_FAILED', (e as Error).message, { cause: e });
  return toDualrunError(e);
}
