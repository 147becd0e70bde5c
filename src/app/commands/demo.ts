import path from 'node:path';
import type { Command } from 'commander';
import { runDemo } from '../demo/demo-story.ts';
import { json, out, runCommand } from './command-runner.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the whole migration story on an embedded Postgres: shadow run, a caught defect, replay, promotion, rollback')
    .option('--dir <path>', 'folder for the demo config, its embedded Postgres and the report', 'dualrun-demo')
    .option('--format <format>', 'text (a narrated story) | json (the facts, for scripts and tests)', 'text')
    .addHelpText('after', '\nNeeds nothing running: Postgres is embedded; Kafka is used when KAFKA_BROKERS is set.\n\nExample:\n  $ npx dualrun demo && open dualrun-demo/report.html')
    .action(async (opts: { dir: string; format: string }, cmd: Command) => {
      await runCommand(cmd, async (rt) => {
        const started = Date.now();
        const narrate = opts.format === 'json' ? () => undefined : out;
        const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const facts = await runDemo({ folder: path.resolve(opts.dir), log: rt.log, narrate, kafkaBrokers: brokers });
        if (opts.format === 'json') return json({ ...facts, seconds: (Date.now() - started) / 1000 });
        out(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Try it on your data: dualrun init && dualrun migrate && dualrun datasets`);
      }, { ignoreConfig: true });
    });
}
