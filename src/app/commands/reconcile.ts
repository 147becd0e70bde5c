import type { Command } from 'commander';
import { DualrunError, EXIT, exitCodeOfError } from '../../core/errors.ts';
import { requestedWindows } from '../../core/windows.ts';
import { interruptedExitCode, json, out, runCommand } from './command-runner.ts';
import { reconcileDataset, DEFAULT_SAMPLES } from '../../../reconcile/reconcile-dataset.ts';
import { exitCodeFor } from '../../../reconcile/verdict-exit-code.ts';
import { resultMarkdown, resultText } from '../../../reconcile/result-text.ts';
import type { WindowResult } from '../../../reconcile/types.ts';
import { stderrLine } from '../../core/terminal.ts';
import { boundHeapGrowth } from '../../core/bounded-heap.ts';

interface ReconcileCliOptions { window?: string; from?: string; to?: string; format: string; samples: string; assumeSettled?: boolean }

export function registerReconcile(program: Command): void {
  program
    .command('reconcile <dataset>')
    .description('compare batch and stream outputs per window: counts, in-database checksums, exact differing keys and columns')
    .option('--window <date>', 'one window')
    .option('--from <date>', 'first window (inclusive)')
    .option('--to <date>', 'last window (inclusive)')
    .option('--format <format>', 'text|json|md', 'text')
    .option('--samples <n>', 'differences to list per window', String(DEFAULT_SAMPLES))
    .option('--assume-settled', 'judge windows dualrun cannot prove settled instead of answering pending')
    .addHelpText('after', '\nWithout --window/--from/--to: the newest window with a succeeded batch run.\nExit codes: 0 match, 1 mismatch, 2 usage or config error (a table or column the config names that an output lacks),\n3 failure (a database unreachable, a query failed), 4 pending (not settled yet); several windows: the worst (2 > 3 > 1 > 4 > 0);\n130/143 when SIGINT/SIGTERM left windows unjudged (each listed as DUALRUN_INTERRUPTED).\n\nExample:\n  $ dualrun reconcile orders --window 2026-11-20 --format json')
    .action(async (dataset: string, opts: ReconcileCliOptions, cmd: Command) => runCommand(cmd, async (rt) => {
      boundHeapGrowth();
      if (!['text', 'json', 'md'].includes(opts.format)) throw new DualrunError('DUALRUN_USAGE', `--format: expected text, json or md, got ${JSON.stringify(opts.format)}`);
      const samples = Number(opts.samples);
      if (!Number.isInteger(samples) || samples < 0) throw new DualrunError('DUALRUN_USAGE', `--samples: expected a whole number >= 0, got ${JSON.stringify(opts.samples)}`);
      const ds = rt.dataset(dataset);
      const asked = requestedWindows(ds, opts);
      // Progress lines only for a person watching; pipes and logs stay quiet.
      const progress = process.stderr.isTTY ? stderrLine : undefined;
      // Text and Markdown: each window as soon as it is judged; JSON: one document at the end.
      let printed = 0;
      const onResult = (r: WindowResult) => {
        if (opts.format === 'json') return;
        out(`${printed++ > 0 ? '\n' : ''}${opts.format === 'md' ? resultMarkdown(r) : resultText(r)}`);
      };
      const results = await reconcileDataset(rt, dataset, { windows: asked?.map((w) => w.label), samples, assumeSettled: opts.assumeSettled ?? false, progress, onResult });
      // An array whenever a range was asked for, so scripts see one shape per invocation style.
      const several = Boolean(opts.from || opts.to);
      if (opts.format === 'json') json(several ? results : results[0]);
      // A config the database refuses (a table or column it does not have, a reconcile.expressions entry) is a
      // config error: the exit code its registry entry gives (2), not a failed run's 3.
      const badConfig = results.find((r) => r.error && exitCodeOfError(r.error.code) === EXIT.usage);
      if (badConfig) { process.stderr.write(`dualrun: ${badConfig.error!.code}: ${badConfig.error!.message}\n`); return EXIT.usage; }
      // Windows a signal left unjudged: the answer is incomplete, whatever the others said.
      if (results.some((r) => r.error?.code === 'DUALRUN_INTERRUPTED')) return interruptedExitCode(rt.signal) ?? EXIT.runtime;
      return exitCodeFor(results.map((r) => r.verdict));
    }));
}
