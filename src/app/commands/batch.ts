import type { Command } from 'commander';
import { DualrunError, EXIT } from '../../core/errors.ts';
import { requestedWindows } from '../../core/windows.ts';
import { pathsRunning, readStage } from '../../core/stages.ts';
import type { Runtime } from '../../core/runtime.ts';
import { interruptedExitCode, json, out, reportError, resumeCommand, runCommand } from './command-runner.ts';
import { startProgress, stderrLine } from '../../core/terminal.ts';
import { backfill } from '../../../legacy-batch/backfill.ts';
import { runWindow, type WindowResult } from '../../../legacy-batch/run-window.ts';
import { adoptWindow } from '../../../legacy-batch/adopt.ts';
import { lastDueWindow } from '../../../legacy-batch/due-window.ts';
import type { DatasetConfig } from '../../core/config/types.ts';

interface RunOpts { window?: string; from?: string; to?: string; rerun?: boolean; partial?: boolean; format: string }

const PARTIAL_HELP = 'allow a window that has not ended + reconcile.settle yet: recorded as partial, loaded again once due, never cutover evidence';

/** --partial only means something for windows. */
function checkPartial(ds: DatasetConfig, partial: boolean | undefined): void {
  if (partial && !ds.window) throw new DualrunError('DUALRUN_USAGE', `--partial: dataset ${ds.name} has no window column, so there is no window that has not ended`);
}

export function registerBatch(program: Command): void {
  const batch = program.command('batch').description('the legacy batch path: run managed window loads, adopt an external job\'s output');
  batch
    .command('run <dataset>')
    .description('run the managed batch query for a window (or a range, in order) and load batch.output atomically')
    .option('--window <date>', 'one window, e.g. 2026-11-20 (day grain) or 2026-11-20T13 (hour grain); default: the newest window past its end + reconcile.settle')
    .option('--from <date>', 'first window of a backfill (inclusive)')
    .option('--to <date>', 'last window of a backfill (inclusive)')
    .option('--rerun', 'reload windows of a backfill that already loaded successfully')
    .option('--partial', PARTIAL_HELP)
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nA window is loaded as complete only after its end + reconcile.settle; before that the run exits 2 saying when it can run.\n\nExamples:\n  $ dualrun batch run orders --window 2026-11-20\n  $ dualrun batch run orders --from 2026-11-01 --to 2026-11-20   # resumes, skips loaded windows\n  $ dualrun batch run orders --window 2026-11-20T13 --partial     # an hour still in progress (never evidence)')
    .action(async (dataset: string, opts: RunOpts, cmd: Command) => runCommand(cmd, (rt) => batchRun(rt, dataset, opts)));
  batch
    .command('adopt <dataset>')
    .description('record that an external legacy job finished writing a window of batch.output')
    .option('--window <date>', 'the window the job finished (required when the dataset has a window column)')
    .option('--partial', PARTIAL_HELP)
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExample (at the end of the legacy job):\n  $ dualrun batch adopt orders --window 2026-11-20')
    .action(async (dataset: string, opts: { window?: string; partial?: boolean; format: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      const ds = rt.dataset(dataset);
      if (ds.window && !opts.window) throw new DualrunError('DUALRUN_USAGE', `dataset ${ds.name} is windowed: say which window the job finished with --window`);
      checkPartial(ds, opts.partial);
      const windows = requestedWindows(ds, { window: opts.window });
      const r = await adoptWindow(rt, ds, windows?.[0] ?? null, 'cli', { partial: opts.partial });
      if (opts.format === 'json') json(r);
      else out(`${r.dataset} ${r.window ?? '(whole table)'}: adopted${r.status === 'partial' ? ' as PARTIAL (never evidence)' : ''}, ${r.rows} rows seen (run ${r.runId})`);
      return EXIT.ok;
    }));
}

async function batchRun(rt: Runtime, dataset: string, opts: RunOpts): Promise<number> {
  const ds = rt.dataset(dataset);
  checkPartial(ds, opts.partial);
  const asked = requestedWindows(ds, opts);
  const stage = await readStage(await rt.db(), ds.name);
  // The scheduler never runs a retired batch; a person asking explicitly may (e.g. to compare once more).
  if (!pathsRunning(stage).batch) rt.log.warn({ dataset: ds.name, stage }, 'the legacy batch of this dataset is retired (streaming-only); running it because it was asked for explicitly');
  let results: WindowResult[];
  let interrupted = false;
  if (opts.from || opts.to) {
    const windows = asked ?? [];
    const bar = startProgress(windows.length, 'backfill [{bar}] {value}/{total} windows  {window}', { window: '' });
    // Text: each window's line as it finishes (above the bar); JSON: one document at the end.
    results = await backfill(rt, ds, windows, {
      rerun: opts.rerun ?? false, trigger: 'backfill', signal: rt.signal, partial: opts.partial,
      onWindow: (e) => {
        if (e.phase !== 'end') return;
        bar?.increment({ window: e.window.label });
        if (opts.format !== 'json' && e.result) printResults([e.result], opts.format, false);
      },
    });
    bar?.stop();
    // The first window not loaded by now (the one cut short, or the next): where to pick up.
    const left = results.find((r) => r.status !== 'succeeded' && r.status !== 'skipped');
    interrupted = rt.signal.aborted && left !== undefined;
    if (interrupted && left?.window) stderrLine(`backfill interrupted at ${left.window}; resume with:\n  ${resumeCommand({ '--from': left.window })}`);
    if (opts.format !== 'json') return exitFor(results, interrupted ? rt.signal : null);
  } else {
    const window = asked === null ? null : (asked[0] ?? lastDueWindow(ds, new Date()));
    results = [await runWindow(rt, ds, window, { trigger: 'cli', signal: rt.signal, partial: opts.partial })];
  }
  printResults(results, opts.format, results.length > 1 || Boolean(opts.from));
  return exitFor(results, interrupted ? rt.signal : null);
}

/** A backfill a signal left unfinished exits 130/143 (as documented), not 3 as if a window had failed. */
function exitFor(results: WindowResult[], interruptedBy: AbortSignal | null): number {
  const bad = results.find((r) => r.error);
  const code = bad?.error ? reportError(bad.error, false) : results.some((r) => r.status === 'not-run') ? EXIT.runtime : EXIT.ok;
  return interruptedBy ? interruptedExitCode(interruptedBy) ?? code : code;
}

function printResults(results: WindowResult[], format: string, asArray: boolean): void {
  const view = results.map((r) => ({
    dataset: r.dataset, window: r.window, status: r.status, rows: r.rows, runId: r.runId, ms: r.ms,
    ...(r.error ? { error: r.error.toJSON() } : {}),
  }));
  if (format === 'json') { json(asArray ? view : view[0]); return; }
  for (const r of view) {
    const rows = r.rows === null ? '' : `  ${r.rows} rows`;
    const run = r.runId === null ? '' : `  (run ${r.runId}, ${(r.ms / 1000).toFixed(1)}s)`;
    const note = r.status === 'partial' ? '  (PARTIAL: the window is not due yet; loaded again once due, never cutover evidence)' : '';
    out(`${r.dataset} ${r.window ?? '(whole table)'}: ${r.status}${rows}${run}${note}`);
  }
}
