/**
 * The stream worker's heartbeat: every 5 s (DUALRUN_HEARTBEAT_MS), busy or idle,
 * one `heartbeat` log line with rows/s, lag, whether the worker is idle and why
 * ("no dataset in shadow or later", "caught up", ...). The same tick checks for a
 * stalled stream: lag but no record applied for the stall period
 * (DUALRUN_STALL_AFTER_MS, default 60 s), alerted once per stall (`stream_stalled`).
 */
import type { Runtime } from '../src/core/runtime.ts';
import { pathsRunning, readStages, type Stage } from '../src/core/stages.ts';
import { streamStalledAlert } from '../src/core/alerts/pipeline-alerts.ts';
import type { StreamProgress } from '../src/core/metrics/metrics.ts';
import { changelogLag } from './changelog-lag.ts';

export interface HeartbeatOptions {
  readonly everyMs?: number;
  readonly stallAfterMs?: number;
}

export interface DatasetBeat {
  dataset: string;
  stage: Stage | null;
  rowsPerSec: number;
  applied: number;
  deadLettered: number;
  lagRecords: number | null;
  lagSeconds: number | null;
  idle: boolean;
  why: string | null;
  stalled: boolean;
}

interface Track { total: number; progressAt: number; stalled: boolean }

export function startHeartbeat(rt: Runtime, datasets: readonly string[], opts: HeartbeatOptions = {}): { stop(): void } {
  const everyMs = opts.everyMs ?? (Number(process.env.DUALRUN_HEARTBEAT_MS) || 5000);
  const stallAfterMs = opts.stallAfterMs ?? (Number(process.env.DUALRUN_STALL_AFTER_MS) || 60_000);
  const tracks = new Map<string, Track>();
  let last = Date.now();
  let running: Promise<void> | null = null;
  const tick = async () => {
    const now = Date.now();
    const secs = Math.max((now - last) / 1000, 0.001);
    last = now;
    let stages: Map<string, Stage> | null = null;
    let stageError: string | null = null;
    try { stages = await readStages(await rt.db(), datasets); } catch (e) { stageError = (e as Error).message; }
    await measureChangelogLag(rt, datasets, stages);
    const beats = datasets.map((d) => beatFor(rt, d, stages?.get(d) ?? null, tracks, now, secs, stallAfterMs));
    const streaming = beats.filter((b) => b.stage !== null && pathsRunning(b.stage).stream);
    const idle = beats.every((b) => b.idle);
    const why = stageError ? `cannot read stages: ${stageError}` : streaming.length === 0 ? 'no dataset in shadow or later' : idle ? commonWhy(streaming) : null;
    const lags = streaming.map((b) => b.lagRecords).filter((n): n is number => n !== null);
    const rowsPerSec = beats.reduce((s, b) => s + b.rowsPerSec, 0);
    const lagRecords = lags.length ? lags.reduce((a, b) => a + b, 0) : null;
    rt.log.info({ idle, why, rowsPerSec, lagRecords, datasets: beats },
      idle ? `heartbeat: idle (${why})` : `heartbeat: streaming ${rowsPerSec} rows/s${lagRecords === null ? '' : `, ${lagRecords} records behind`}`);
  };
  const timer = setInterval(() => { running ??= tick().catch((e) => rt.log.warn({ err: e }, 'heartbeat failed')).finally(() => { running = null; }); }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The changelog transport does not report lag while catching up: count it for streamed datasets not at the head. */
async function measureChangelogLag(rt: Runtime, datasets: readonly string[], stages: Map<string, Stage> | null): Promise<void> {
  for (const d of datasets) {
    const stage = stages?.get(d);
    if (!stage || !pathsRunning(stage).stream || rt.metrics.streamProgress(d)?.caughtUp) continue;
    const n = await changelogLag(rt, rt.dataset(d)).catch((e) => { rt.log.debug({ err: e, dataset: d }, 'heartbeat: counting changelog lag failed'); return null; });
    if (n !== null) rt.metrics.streamLag(d, 0, n);
  }
}

function beatFor(rt: Runtime, dataset: string, stage: Stage | null, tracks: Map<string, Track>, now: number, secs: number, stallAfterMs: number): DatasetBeat {
  const p = rt.metrics.streamProgress(dataset);
  const streams = stage !== null && pathsRunning(stage).stream;
  const total = p ? p.applied + p.deadLettered : 0;
  let t = tracks.get(dataset);
  if (!t) { t = { total, progressAt: now, stalled: false }; tracks.set(dataset, t); }
  const delta = total - t.total;
  if (delta > 0 || !streams) { t.total = total; t.progressAt = now; }
  const lagSeconds = p?.caughtUp ? 0 : p?.lastSourceTs ? Math.max(0, Math.round((now - p.lastSourceTs.getTime()) / 100) / 10) : null;
  const why = !streams ? (stage === null ? 'stage unknown' : `stage ${stage}: not streamed`) : delta > 0 ? null : idleReason(p);
  checkStall(rt, dataset, t, p, streams, now, stallAfterMs);
  return {
    dataset, stage, rowsPerSec: Math.round(delta / secs), applied: p?.applied ?? 0, deadLettered: p?.deadLettered ?? 0,
    lagRecords: p?.lagRecords ?? null, lagSeconds, idle: delta === 0, why, stalled: t.stalled,
  };
}

function idleReason(p: StreamProgress | undefined): string {
  if (!p) return 'starting (no batch or head seen yet)';
  if (p.caughtUp) return 'caught up';
  return p.lagRecords ? `no progress with ${p.lagRecords} records behind` : 'waiting for records';
}

function commonWhy(beats: DatasetBeat[]): string {
  const whys = [...new Set(beats.map((b) => b.why ?? ''))];
  return whys.length === 1 ? whys[0] : beats.map((b) => `${b.dataset}: ${b.why}`).join('; ');
}

/** Lag but no progress for the stall period: alert once; progress again clears it. */
function checkStall(rt: Runtime, dataset: string, t: Track, p: StreamProgress | undefined, streams: boolean, now: number, stallAfterMs: number): void {
  const behind = p !== undefined && !p.caughtUp && (p.lagRecords === null ? p.lastBatchAt !== null : p.lagRecords > 0);
  const stalled = streams && behind && now - t.progressAt >= stallAfterMs;
  if (stalled && !t.stalled) {
    const stalledSeconds = (now - t.progressAt) / 1000;
    rt.log.warn({ dataset, lagRecords: p!.lagRecords, stalledSeconds }, 'stream stalled: lag but no progress');
    rt.alerts.emit(streamStalledAlert(dataset, { lagRecords: p!.lagRecords, stalledSeconds, applied: p!.applied }));
  } else if (!stalled && t.stalled) {
    rt.log.info({ dataset }, 'stream progressing again');
  }
  if (stalled !== t.stalled) rt.metrics.streamStalled(dataset, stalled);
  t.stalled = stalled;
}
