import type { Command } from 'commander';
import { DualrunError, EXIT } from '../../core/errors.ts';
import { interruptedExitCode, json, out, runCommand } from './command-runner.ts';
import { pruneChangelogs, removeCapture, runCapture } from '../../../streaming/index.ts';
import { addMetricsPortOption, withOperations } from './operations.ts';

interface CaptureOptions { dataset?: string[]; untilIdle?: boolean; remove?: boolean; prune?: boolean; format?: string; metricsPort?: string }

export function registerCapture(program: Command): void {
  addMetricsPortOption(program
    .command('capture'))
    .description('built-in change capture from Postgres source tables (stream.source.table) into the transport')
    .option('--dataset <name...>', 'only these datasets')
    .option('--until-idle', 'with Kafka: stop once the changelog is relayed (without Kafka capture always returns after installing); interrupted before that: exit 130 (SIGINT) / 143 (SIGTERM)')
    .option('--remove', 'remove what capture installed (replication slot and publication, or the trigger); the source table is untouched')
    .option('--prune', "prune each trigger changelog (dualrun.changelog) down to what its consumers still need (see stream.source.changelogRetention), then return")
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nWithout `kafka` in the config: installs capture (a trigger, or with `capture: logical` a replication\nslot; either way existing rows are snapshotted) and returns; `dualrun stream` then reads dualrun.changelog\n(or the slot). With `kafka`: also relays the changelog to\nstream.source.topic in Debezium shape until stopped.\n\nThe worker and the relay prune the trigger changelog every minute; --prune does it now.\n\nExit codes: 0 stopped by SIGINT/SIGTERM (its normal stop) or done (--prune), 2 usage or config error (a source table\nthe config names is missing), 3 runtime failure (Postgres or Kafka away past their reconnect wait).\n\nExample:\n  $ dualrun capture --dataset orders\n  $ dualrun capture --prune')
    .action(async (opts: CaptureOptions, cmd: Command) => runCommand(cmd, async (rt) => {
      const names = opts.dataset ?? Object.keys(rt.config.datasets);
      if (opts.prune) {
        if (opts.remove) throw new DualrunError('DUALRUN_USAGE', 'capture: --prune and --remove do not go together (run them one after the other)');
        const pruned = await pruneChangelogs(rt, names);
        if (opts.format === 'json') json({ pruned });
        else for (const p of pruned) out(`${p.table}: pruned ${p.pruned} changelog rows${p.prunedThrough ? ` (through ${p.prunedThrough})` : ''}; kept from there: ${p.keptBecause}`);
        return EXIT.ok;
      }
      if (opts.remove) {
        const removed = await removeCapture(rt, names);
        if (opts.format === 'json') json({ removed });
        else for (const x of removed) out(`${x.dataset}: ${x.removed ? `removed ${x.removed}` : 'nothing to remove'}`);
        return EXIT.ok;
      }
      const r = await withOperations(rt, { metricsPort: opts.metricsPort, kafka: rt.config.kafka !== null },
        () => runCapture(rt, { datasets: names, untilIdle: opts.untilIdle ?? false, explicit: opts.dataset !== undefined }));
      // A run to idle stopped by a signal did not relay everything: not a success (130/143), as with stream --until-idle.
      const interrupted = opts.untilIdle && rt.config.kafka ? interruptedExitCode(rt.signal) : null;
      if (opts.format === 'json') json(interrupted !== null ? { ...r, interrupted: true } : r);
      else {
        for (const i of r.installed) out(`${i.table}: ${i.installed ? `capture installed, ${i.snapshotRows} existing rows snapshotted` : 'capture already installed'}`);
        for (const s of r.skipped) out(`${s.dataset}: skipped (${s.reason})`);
        for (const [d, n] of Object.entries(r.relayed)) out(`${d}: ${n} changes relayed to Kafka`);
        if (interrupted !== null) out(`interrupted before idle (exit ${interrupted}): run it again to relay the rest`);
      }
      return interrupted ?? EXIT.ok;
    }));
}
