import fs from 'node:fs';
import path from 'node:path';
import { packagePath } from '../../core/package-path.ts';
import type { Command } from 'commander';
import { DualrunError } from '../../core/errors.ts';
import { writeUserFile } from '../../core/write-output-file.ts';
import { out, runCommand } from './command-runner.ts';

const TEMPLATE_DIR = packagePath('examples', 'init');

/** Files init writes, relative to the target folder. */
export function templateFiles(dir = TEMPLATE_DIR): string[] {
  const walk = (d: string): string[] => fs.readdirSync(path.join(dir, d), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  return walk('.').map((f) => path.normalize(f)).sort();
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('scaffold a commented dualrun.yaml with an example dataset (orders), its batch SQL, transform and record schema')
    .option('--dir <path>', 'folder to write into', '.')
    .option('--no-example', 'only dualrun.yaml, without the example dataset (then: dualrun add <dataset> --from-table schema.table)')
    .option('--force', 'overwrite files that already exist')
    .addHelpText('after', '\nExamples:\n  $ dualrun init && dualrun migrate && dualrun datasets\n  $ dualrun init --no-example && dualrun add customers --from-table shop.customers && dualrun migrate')
    .action(async (opts: { dir: string; example: boolean; force?: boolean }, cmd: Command) => {
      await runCommand(cmd, async () => {
        const target = path.resolve(opts.dir);
        const files = opts.example ? templateFiles() : ['dualrun.yaml'];
        const existing = files.filter((f) => fs.existsSync(path.join(target, f)));
        if (existing.length > 0 && !opts.force) {
          throw new DualrunError('DUALRUN_USAGE', `refusing to overwrite ${existing.join(', ')} in ${target} (use --force)`);
        }
        for (const f of files) {
          writeUserFile(path.join(target, f), (to) => (opts.example ? fs.copyFileSync(path.join(TEMPLATE_DIR, f), to)
            : fs.writeFileSync(to, withoutExample(fs.readFileSync(path.join(TEMPLATE_DIR, f), 'utf8')))));
        }
        out(`wrote ${files.join(', ')} in ${target}\nnext: ${opts.example ? 'dualrun migrate && dualrun datasets' : 'dualrun add <dataset> --from-table schema.table && dualrun migrate'}`);
      }, { configOptional: true, autoMigrate: false });
    });
}

/** The template's header, database and kafka sections, with an empty datasets map. */
export function withoutExample(template: string): string {
  const at = template.indexOf('\ndatasets:');
  const head = at === -1 ? template : template.slice(0, at + 1);
  return `${head}datasets: {}   # add one with: dualrun add <dataset> --from-table schema.table\n`;
}
