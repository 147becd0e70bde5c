import type { Command } from 'commander';
import { DualrunError, EXIT } from '../../core/errors.ts';
import { parseDuration } from '../../core/duration.ts';
import { allowStopWithin, runCommand } from './command-runner.ts';
import { plannedJobs } from '../scheduler/planned-jobs.ts';
import { createScheduler } from '../scheduler/scheduler.ts';
import { watchPostgres } from '../scheduler/connection-watch.ts';
import { addMetricsPortOption, withOperations } from './operations.ts';

/** After the grace: cancelling the statements, the rollbacks and the ledger's `abandoned`. */
const STOP_AFTER_GRACE_MS = 5_000;

export function registerSchedule(program: Command): void {
  addMetricsPortOption(program
    .command('schedule'))
    .description('long-running node-cron scheduler: batch runs, reconciliations and the nightly report from config')
    .option('--grace <duration>', 'after SIGTERM/SIGINT, how long running jobs may finish before they are cancelled and recorded abandoned', '30s')
    .addHelpText('after', '\nSeveral schedulers may run at once; Postgres advisory locks and a fire table run each job once.\n\nExit codes: 0 stopped by SIGINT/SIGTERM (its normal stop), 2 usage or config error,\n3 Postgres away past database.reconnect.maxWait.\n\nExample:\n  $ dualrun schedule --grace 2m')
    .action(async (opts: { grace: string; metricsPort?: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      const graceMs = parseDuration(opts.grace);
      if (graceMs === null) throw new DualrunError('DUALRUN_USAGE', `--grace: ${JSON.stringify(opts.grace)} is not a duration (e.g. 30s, 2m)`);
      // Running jobs get the grace, then a few seconds to be cancelled and recorded abandoned.
      allowStopWithin(graceMs + STOP_AFTER_GRACE_MS);
      const plan = plannedJobs(rt.config);
      for (const note of plan.notes) rt.log.warn(note);
      if (plan.jobs.length === 0) {
        throw new DualrunError('DUALRUN_USAGE', `nothing to schedule in ${rt.config.path ?? 'config'}: set batch.schedule, reconcile.schedule or report.schedule`);
      }
      const scheduler = createScheduler({ rt, jobs: plan.jobs, graceMs });
      await withOperations(rt, { metricsPort: opts.metricsPort, kafka: false }, async () => {
        await scheduler.start();
        rt.log.info({ jobs: plan.jobs.length }, 'scheduler running (SIGTERM to stop)');
        // Until SIGTERM, or Postgres stays away past database.reconnect.maxWait (exit 3).
        const lost = await watchPostgres(rt, rt.signal).then(() => null, (e: unknown) => e);
        await scheduler.stop();
        if (lost) throw lost;
      });
      rt.log.info('scheduler stopped');
      return EXIT.ok;
    }));
}
