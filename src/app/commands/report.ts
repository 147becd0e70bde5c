import path from 'node:path';
import type { Command } from 'commander';
import { DualrunError, EXIT } from '../../core/errors.ts';
import { out, runCommand } from './command-runner.ts';
import { buildNightlyReport } from '../../../reconcile/nightly-report-data.ts';
import { renderNightlyReport, writeNightlyReport } from '../../../reconcile/nightly.ts';

interface ReportCliOptions { date?: string; format: string; out?: string }

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('the nightly report across datasets: status, trend over recent nights, drill-down samples')
    .option('--date <date>', 'the night to report: reconciliations finished that day, UTC (default: today)')
    .option('--format <format>', 'md|html|json', 'md')
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText('after', '\nExit codes: 0 no mismatch that night, 1 a dataset mismatched, 2 usage or config error,\n3 a reconciliation that night could not run (its error stands) or the database is unreachable.\n\nExample:\n  $ dualrun report --format html --out reports/nightly.html')
    .action(async (opts: ReportCliOptions, cmd: Command) => runCommand(cmd, async (rt) => {
      const format = opts.format;
      if (format !== 'md' && format !== 'html' && format !== 'json') throw new DualrunError('DUALRUN_USAGE', `--format: expected md, html or json, got ${JSON.stringify(format)}`);
      let report;
      if (opts.out) {
        report = await writeNightlyReport(rt, { date: opts.date, format, out: path.resolve(opts.out) });
        process.stderr.write(`report written to ${path.resolve(opts.out)}\n`);
      } else {
        report = await buildNightlyReport(rt, { date: opts.date });
        out(renderNightlyReport(report, format));
      }
      // As reconcile's rule: a window that could not be judged (its error standing) leaves the night unanswered.
      if (report.status === 'error') return EXIT.runtime;
      return report.status === 'mismatch' ? EXIT.checkFailed : EXIT.ok;
    }));
}
