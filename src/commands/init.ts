import fs from 'node:fs';
import path from 'node:path';
import { packagePath } from '../package-path.ts';
import type { Command } from 'commander';
import { DualrunError } from '../errors.ts';
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
    .option('--force', 'overwrite files that already exist')
    .addHelpText('after', '\nExample:\n  $ dualrun init && dualrun migrate && dualrun datasets')
    .action(async (opts: { dir: string; force?: boolean }, cmd: Command) => {
      await runCommand(cmd, async () => {
        const target = path.resolve(opts.dir);
        const files = templateFiles();
        const existing = files.filter((f) => fs.existsSync(path.join(target, f)));
        if (existing.length > 0 && !opts.force) {
          throw new DualrunError('DUALRUN_USAGE', `refusing to overwrite ${existing.join(', ')} in ${target} (use --force)`);
        }
        for (const f of files) {
          fs.mkdirSync(path.dirname(path.join(target, f)), { recursive: true });
          fs.copyFileSync(path.join(TEMPLATE_DIR, f), path.join(target, f));
        }
        out(`wrote ${files.join(', ')} in ${target}\nnext: dualrun migrate && dualrun datasets`);
      }, { configOptional: true, autoMigrate: false });
    });
}
