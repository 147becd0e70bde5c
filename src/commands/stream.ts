import type { Command } from 'commander';
import { DualrunError, EXIT } from '../errors.ts';
import { json, out, runCommand } from './command-runner.ts';
import { ADOPTED_NOTE, adoptedDatasets, streamedDatasets } from '../config/stream-source.ts';
import { recordDefinitions } from '../cutover/dataset-definition.ts';
import { resetForReplay, runStreamWorker, type ReplayFrom } from '../../streaming/index.ts';
import { addMetricsPortOption, withOperations } from './operations.ts';

interface StreamOptions { dataset?: string[]; fromBeginning?: boolean; fromTime?: string; resetOutput?: boolean; untilIdle?: boolean; format?: string; metricsPort?: string }

export function registerStream(program: Command): void {
  addMetricsPortOption(program
    .command('stream'))
    .description('run the streaming worker: consume change events, validate, transform, upsert into stream.output exactly once')
    .option('--dataset <name...>', 'only these datasets (default: every dataset in shadow or later)')
    .option('--from-beginning', 'replay: reset positions and rebuild stream.output from the start')
    .option('--from-time <time>', 'replay from a point in time (ISO 8601): rows with _dr_source_ts >= time are rebuilt')
    .option('--reset-output', 'confirm that a replay may remove the rows already in stream.output')
    .option('--until-idle', 'stop once caught up (for tests and backfills)')
    .option('--format <format>', 'summary format with --until-idle: text|json', 'text')
    .addHelpText('after', '\nExamples:\n  $ dualrun stream                         # long-running worker\n  $ dualrun stream --dataset orders --until-idle\n  $ dualrun stream --dataset orders --from-beginning --reset-output --until-idle')
    .action(async (opts: StreamOptions, cmd: Command) => runCommand(cmd, async (rt) => {
      const names = streamedDatasets(rt, opts.dataset);
      const from = replayFrom(opts);
      if (!from && opts.resetOutput) throw new DualrunError('DUALRUN_USAGE', '--reset-output only goes with --from-beginning or --from-time');
      const replays = [];
      if (from) for (const n of names) replays.push(await resetForReplay(rt, rt.dataset(n), from, opts.resetOutput ?? false));
      for (const r of replays) rt.log.info(r, 'replay reset');
      // The gate dates evidence from a definition change (docs/cutover.md): a new transform starts being used here.
      await recordDefinitions(await rt.db(), names.filter((n) => rt.config.datasets[n]).map((n) => rt.dataset(n)), 'stream');
      const result = await withOperations(rt, { metricsPort: opts.metricsPort, kafka: rt.config.kafka !== null, heartbeat: names },
        () => runStreamWorker(rt, { datasets: names, untilIdle: opts.untilIdle ?? false }));
      const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      if (opts.format === 'json') json({ replays, datasets: result.ran, skipped: result.skipped, adopted: adoptedDatasets(rt, opts.dataset), maxRssMb });
      else if (opts.untilIdle) {
        for (const s of result.ran) out(`${String(s.dataset)}: ${String(s.applied)} applied, ${String(s.deadLettered)} dead-lettered, ${String(s.rowsPerSec)} rows/s`);
        for (const s of result.skipped) out(`${s}: skipped (stage batch)`);
        for (const d of adoptedDatasets(rt, opts.dataset)) out(`${d}: skipped (${ADOPTED_NOTE})`);
      }
      // Above stream.maxDeadLetterRate a run to idle is a failed check (exit 1), like a mismatch.
      const overRate = result.ran.filter((s) => s.deadLetterRateExceeded);
      for (const s of overRate) {
        const r = s.deadLetterRateExceeded as { deadLettered: number; records: number; ratio: number; window: number };
        if (opts.untilIdle && opts.format !== 'json') out(`${String(s.dataset)}: dead-letter rate above stream.maxDeadLetterRate: ${r.deadLettered} of the last ${r.records} records (limit ${r.ratio} × ${r.window})`);
      }
      return opts.untilIdle && overRate.length > 0 ? EXIT.checkFailed : EXIT.ok;
    }));
}


function replayFrom(opts: StreamOptions): ReplayFrom | null {
  if (opts.fromBeginning && opts.fromTime) throw new DualrunError('DUALRUN_USAGE', '--from-beginning and --from-time exclude each other');
  if (opts.fromBeginning) return { kind: 'beginning' };
  if (opts.fromTime === undefined) return null;
  const at = new Date(opts.fromTime);
  if (Number.isNaN(at.getTime())) throw new DualrunError('DUALRUN_USAGE', `--from-time ${JSON.stringify(opts.fromTime)} is not an ISO 8601 time (e.g. 2026-11-20T00:00:00Z)`);
  return { kind: 'time', at };
}
