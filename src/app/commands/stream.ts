import type { Command } from 'commander';
import { parseInstant } from '../../core/parse-instant.ts';
import { DualrunError, EXIT } from '../../core/errors.ts';
import type { Runtime } from '../../core/runtime.ts';
import { interruptedExitCode, json, out, runCommand } from './command-runner.ts';
import { recordDefinitions } from '../../core/cutover/dataset-definition.ts';
import { recordStreamStart } from '../../core/cutover/stream-code.ts';
import { ADOPTED_NOTE, adoptedDatasets, streamedDatasets } from '../../core/config/stream-source.ts';
import { readStages, pathsRunning } from '../../core/stages.ts';
import { replayOnTheSide, runStreamWorker, storedPositions, type ReplayFrom, type ReplayResult } from '../../../streaming/index.ts';
import { addMetricsPortOption, withOperations } from './operations.ts';

interface StreamOptions { dataset?: string[]; fromBeginning?: boolean; fromTime?: string; resetOutput?: boolean; untilIdle?: boolean; format?: string; metricsPort?: string }

interface Summary { replays: ReplayResult[]; datasets?: Record<string, unknown>[]; skipped?: string[] }

export function registerStream(program: Command): void {
  addMetricsPortOption(program
    .command('stream'))
    .description('run the streaming worker: consume change events, validate, transform, upsert into stream.output exactly once')
    .option('--dataset <name...>', 'only these datasets (default: every dataset in shadow or later)')
    .option('--from-beginning', 'replay: rebuild stream.output from the start, on the side, then swap it in at once')
    .option('--from-time <time>', 'replay from a point in time (ISO 8601): rows with _dr_source_ts >= time are rebuilt')
    .option('--reset-output', 'confirm that a replay may replace the rows already in stream.output')
    .option('--until-idle', 'stop once caught up (for tests and backfills); interrupted before that: exit 130 (SIGINT) / 143 (SIGTERM)')
    .option('--format <format>', 'summary format with --until-idle: text|json', 'text')
    .addHelpText('after', '\nExit codes: 0 stopped by SIGINT/SIGTERM (the worker), or caught up (--until-idle); 1 --until-idle above\nstream.maxDeadLetterRate; 2 usage or config error (a topic or output the config names is missing);\n3 runtime failure (Postgres or Kafka away past their reconnect wait); 130/143 --until-idle interrupted.\n\nExamples:\n  $ dualrun stream                         # long-running worker\n  $ dualrun stream --dataset orders --until-idle\n  $ dualrun stream --dataset orders --from-beginning --reset-output --until-idle')
    .action(async (opts: StreamOptions, cmd: Command) => runCommand(cmd, async (rt) => {
      const names = streamedDatasets(rt, opts.dataset);
      const from = replayFrom(opts);
      if (!from && opts.resetOutput) throw new DualrunError('DUALRUN_USAGE', '--reset-output only goes with --from-beginning or --from-time');
      // The gate dates evidence from a definition change (docs/cutover.md): a new transform starts being used here (replays included).
      const started = names.filter((n) => rt.config.datasets[n]).map((n) => rt.dataset(n));
      await recordDefinitions(await rt.db(), started, 'stream');
      // What this worker runs, and (after a replay) from when the output holds only its rows: rule 4.1, stream-definition.
      for (const ds of started) await recordStreamStart(await rt.db(), ds, { replay: false });
      return withOperations(rt, { metricsPort: opts.metricsPort, kafka: rt.config.kafka !== null, heartbeat: names }, async () => {
        const replays = from ? await replayAll(rt, names, from, opts.resetOutput ?? false) : [];
        for (const r of replays.filter((x) => x.swapped)) {
          await recordStreamStart(await rt.db(), rt.dataset(r.dataset), { replay: true, coversFrom: from!.kind === 'time' ? from!.at : null });
        }
        // A replay interrupted before its swap did not finish (the output is unchanged).
        if (replays.some((r) => !r.swapped)) return finish(rt, { ...opts, untilIdle: true }, names, { replays });
        // After a replay the rebuilt output is current: a run to idle is done; a worker carries on.
        if (from && opts.untilIdle) return finish(rt, opts, names, { replays });
        const result = await runStreamWorker(rt, { datasets: names, untilIdle: opts.untilIdle ?? false });
        return finish(rt, opts, names, { replays, datasets: result.ran, skipped: result.skipped });
      });
    }));
}

/** Replays each dataset whose stage runs the streaming path, one after the other, each rebuilt on the side. */
async function replayAll(rt: Runtime, names: string[], from: ReplayFrom, resetOutput: boolean): Promise<ReplayResult[]> {
  const stages = await readStages(await rt.db(), names);
  const replays: ReplayResult[] = [];
  for (const n of names) {
    if (!pathsRunning(stages.get(n)!).stream) { rt.log.warn({ dataset: n }, 'not replayed: stage is batch (the streaming path is off)'); continue; }
    const r = await replayOnTheSide(rt, rt.dataset(n), from, { resetOutput });
    rt.log.info(r, r.swapped ? 'replay done' : 'replay interrupted before the swap: stream.output unchanged');
    replays.push(r);
    if (!r.swapped) break;
  }
  return replays;
}

/**
 * Prints the summary and picks the exit code: a run to idle stopped by a signal is
 * not a success (130/143) and says where it stopped; above stream.maxDeadLetterRate
 * a run to idle is a failed check (exit 1), like a mismatch.
 */
async function finish(rt: Runtime, opts: StreamOptions, names: string[], summary: Summary): Promise<number> {
  const interrupted = opts.untilIdle ? interruptedExitCode(rt.signal) : null;
  const stoppedAt = rt.signal.aborted ? await storedPositions(rt, names) : undefined;
  if (stoppedAt) rt.log.warn({ signal: (rt.signal.reason as Error | undefined)?.message, stoppedAt }, interrupted !== null ? 'interrupted before idle: stopped at these stored positions (not caught up)' : 'stopped at these stored positions');
  const ran = summary.datasets ?? [];
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  if (opts.format === 'json') json({ datasets: [], skipped: [], adopted: adoptedDatasets(rt, opts.dataset), ...summary, ...(interrupted !== null ? { interrupted: true, stoppedAt } : {}), maxRssMb });
  else if (opts.untilIdle) {
    for (const s of ran) out(`${String(s.dataset)}: ${String(s.applied)} applied, ${String(s.deadLettered)} dead-lettered, ${String(s.rowsPerSec)} rows/s`);
    for (const s of summary.skipped ?? []) out(`${s}: skipped (stage batch)`);
    for (const d of adoptedDatasets(rt, opts.dataset)) out(`${d}: skipped (${ADOPTED_NOTE})`);
    if (interrupted !== null) out(`interrupted before idle (exit ${interrupted}); stopped at: ${JSON.stringify(stoppedAt)}`);
  }
  if (interrupted !== null) return interrupted;
  const overRate = ran.filter((s) => s.deadLetterRateExceeded);
  for (const s of overRate) {
    const r = s.deadLetterRateExceeded as { deadLettered: number; records: number; ratio: number; window: number };
    if (opts.untilIdle && opts.format !== 'json') out(`${String(s.dataset)}: dead-letter rate above stream.maxDeadLetterRate: ${r.deadLettered} of the last ${r.records} records (limit ${r.ratio} × ${r.window})`);
  }
  return opts.untilIdle && overRate.length > 0 ? EXIT.checkFailed : EXIT.ok;
}

function replayFrom(opts: StreamOptions): ReplayFrom | null {
  if (opts.fromBeginning && opts.fromTime) throw new DualrunError('DUALRUN_USAGE', '--from-beginning and --from-time exclude each other');
  if (opts.fromBeginning) return { kind: 'beginning' };
  if (opts.fromTime === undefined) return null;
  const at = parseInstant(opts.fromTime);
  if (at === null) throw new DualrunError('DUALRUN_USAGE', `--from-time ${JSON.stringify(opts.fromTime)} is not a real ISO 8601 time (e.g. 2026-11-20T00:00:00Z, 2026-11-20)`);
  return { kind: 'time', at };
}
