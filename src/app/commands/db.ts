/**
 * `dualrun db url|psql`: reach the database dualrun uses (database.url, or the
 * embedded Postgres under .dualrun/, started if needed). The password is shown
 * only with --show-password; psql gets it through PGPASSWORD, never argv.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DualrunError, EXIT } from '../../core/errors.ts';
import type { Runtime } from '../../core/runtime.ts';
import { loginPassword, maskUrlSecrets } from '../../core/db/url-password.ts';
import { json, out, runCommand } from './command-runner.ts';

/** The URL with its password masked, wherever it is (user-info, `?password=`, `?sslpassword=`). */
export function maskPassword(url: string): string {
  return maskUrlSecrets(url, '****');
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('reach the database dualrun uses (database.url, or the embedded Postgres)');
  db.command('url')
    .description('print the connection URL of the database in use (password masked unless --show-password)')
    .option('--show-password', 'print the password too')
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nThe embedded Postgres runs while a dualrun command uses it (e.g. `dualrun stream`, `dualrun db psql`);\nfix its port with database.embedded.port to keep the URL stable between runs.\n\nExamples:\n  $ dualrun db url\n  $ psql "$(dualrun db url --show-password)"')
    .action(async (opts: { showPassword?: boolean; format: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      const url = await rt.databaseUrl();
      const shown = opts.showPassword ? url : maskPassword(url);
      const embedded = rt.config.database.url === null;
      if (opts.format === 'json') json({ url: shown, embedded, dir: embedded ? rt.config.database.embedded.dir : null });
      else out(shown);
      if (embedded) rt.log.info({ dir: rt.config.database.embedded.dir }, 'embedded Postgres: it stops when the last dualrun process using it exits');
      return EXIT.ok;
    }, { configOptional: true, autoMigrate: false }));
  db.command('psql')
    .description('open psql on the database in use (needs psql on PATH); extra arguments go to psql')
    .argument('[psqlArgs...]', 'passed to psql after --, e.g. -- -c "select 1"')
    .addHelpText('after', '\nExit codes: psql\'s own once it ran; 2 usage or config error (psql not installed), 3 the database unreachable.\n\nExamples:\n  $ dualrun db psql\n  $ dualrun db psql -- -c "select count(*) from dualrun.reconciliations"')
    .action(async (psqlArgs: string[], _opts: unknown, cmd: Command) => runCommand(cmd, async (rt) => openPsql(rt, psqlArgs), { configOptional: true, autoMigrate: false }));
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

async function openPsql(rt: Runtime, args: string[]): Promise<number> {
  const psql = findOnPath(process.platform === 'win32' ? 'psql.exe' : 'psql');
  if (!psql) throw new DualrunError('DUALRUN_USAGE', 'psql is not installed (not found on PATH); install the PostgreSQL client (e.g. apt-get install postgresql-client), or connect any client to `dualrun db url --show-password`');
  const url = await rt.databaseUrl();
  // The password goes through the environment: argv is visible to every user (ps).
  const password = loginPassword(url);
  const target = maskUrlSecrets(url, '', ['password']);
  // Ctrl-C belongs to psql (it cancels the running query); this process waits for psql to end.
  const saved = process.listeners('SIGINT');
  process.removeAllListeners('SIGINT');
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    const child = spawn(psql, [target, ...args], { stdio: 'inherit', env: { ...process.env, PGPASSWORD: password } });
    const stop = () => child.kill('SIGTERM');
    rt.signal.addEventListener('abort', stop, { once: true });
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => { rt.signal.removeEventListener('abort', stop); resolve(code ?? (signal ? 128 + 15 : EXIT.runtime)); });
    });
  } finally {
    process.off('SIGINT', ignore);
    for (const l of saved) process.on('SIGINT', l as NodeJS.SignalsListener);
  }
}
