/**
 * `dualrun schedule`: node-cron tasks for the planned jobs. Each fire is claimed
 * in Postgres first (fire-claim.ts), so several schedulers run each job once.
 * `fire()` is the same path a cron tick takes, exposed so tests (and callers)
 * can fire a job for a given scheduled time without waiting for the clock.
 *
 * Stopping (SIGTERM): no new fires; running jobs get `graceMs` to finish, then
 * their statements are cancelled and their runs recorded `abandoned`.
 */
import os from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import type { Runtime } from '../../core/runtime.ts';
import { toDualrunError } from '../../core/errors.ts';
import { claimFire, fireKey, type FireOutcome } from './fire-claim.ts';
import { runJob } from './job-actions.ts';
import type { ScheduledJob } from './planned-jobs.ts';
import { abandonOrphanedRuns } from '../../../legacy-batch/run-ledger.ts';
import { abandonOrphanedFires } from './orphaned-fires.ts';

export interface FireResult { job: string; fireAt: Date; outcome: FireOutcome | 'taken'; detail: string }

export interface Scheduler {
  readonly jobs: readonly ScheduledJob[];
  /** Starts the cron tasks. */
  start(): Promise<void>;
  /** Fires one job for a scheduled time, as a cron tick would. */
  fire(jobId: string, fireAt: Date): Promise<FireResult>;
  /** Stops ticking, lets running jobs finish within the grace period, abandons the rest. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  rt: Runtime;
  jobs: readonly ScheduledJob[];
  graceMs: number;
  /** Names this scheduler in dualrun.scheduler_fires.claimed_by. */
  owner?: string;
  onFire?: (r: FireResult) => void;
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  const { rt, jobs } = opts;
  const owner = opts.owner ?? `${os.hostname()}:${process.pid}`;
  const abandon = new AbortController();
  const inFlight = new Set<Promise<FireResult>>();
  const tasks: ScheduledTask[] = [];
  let stopping = false;

  const fire = (jobId: string, fireAt: Date): Promise<FireResult> => {
    const job = jobs.find((j) => j.id === jobId);
    if (!job) return Promise.reject(new Error(`no scheduled job ${jobId}`));
    const p = fireOnce(rt, job, fireKey(fireAt), owner, abandon.signal, stopping);
    inFlight.add(p);
    p.then((r) => opts.onFire?.(r), () => undefined).finally(() => inFlight.delete(p));
    return p;
  };

  return {
    jobs,
    fire,
    async start() {
      await abandonOrphanedRuns(await rt.db());
      // Fires a killed scheduler left without an outcome, of every job (batch fires check again before each fire).
      for (const job of jobs) await abandonOrphanedFires(await rt.db(), job.id);
      for (const job of jobs) {
        // A fire that cannot even be claimed (Postgres away) is logged, never an unhandled rejection.
        const task = cron.createTask(job.cron, (ctx) => fire(job.id, ctx.date).then(() => undefined, (e) => {
          rt.log.error({ job: job.id, err: { message: toDualrunError(e).message } }, 'job could not fire');
        }), { name: job.id, noOverlap: true });
        task.start();
        tasks.push(task);
        rt.log.info({ job: job.id, cron: job.cron, next: task.getNextRun()?.toISOString() }, 'job scheduled');
      }
    },
    async stop() {
      stopping = true;
      await Promise.all(tasks.map((t) => t.destroy()));
      if (inFlight.size === 0) return;
      rt.log.warn({ running: inFlight.size, graceMs: opts.graceMs }, 'waiting for running jobs before abandoning them');
      const settled = Promise.allSettled([...inFlight]);
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), opts.graceMs).unref());
      if ((await Promise.race([settled, timer])) === 'timeout') {
        abandon.abort(new Error('scheduler shutdown'));
        await settled;
      }
    },
  };
}

async function fireOnce(rt: Runtime, job: ScheduledJob, fireAt: Date, owner: string, signal: AbortSignal, stopping: boolean): Promise<FireResult> {
  const base = { job: job.id, fireAt };
  if (stopping) return { ...base, outcome: 'taken', detail: 'scheduler stopping' };
  const claim = await claimFire(await rt.db(), job.id, fireAt, owner);
  if (!claim) {
    rt.log.debug({ job: job.id, fireAt }, 'fire already taken by another scheduler');
    return { ...base, outcome: 'taken', detail: 'claimed by another scheduler' };
  }
  let result: FireResult;
  const t0 = Date.now();
  try {
    const r = await runJob(rt, job, fireAt, signal);
    result = { ...base, ...r };
  } catch (e) {
    const err = toDualrunError(e);
    result = { ...base, outcome: signal.aborted ? 'abandoned' : 'failed', detail: err.message };
  }
  await claim.finish(result.outcome as FireOutcome, result.detail);
  rt.metrics.schedulerJob({ job: job.id, kind: job.kind, outcome: result.outcome, seconds: (Date.now() - t0) / 1000 });
  const level = result.outcome === 'failed' || result.outcome === 'abandoned' ? 'error' : 'info';
  rt.log[level]({ job: job.id, fireAt: fireAt.toISOString(), outcome: result.outcome, detail: result.detail }, 'job fired');
  return result;
}
