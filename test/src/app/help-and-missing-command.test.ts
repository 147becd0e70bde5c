/**
 * Help as a person and a script meet it. `dualrun` with no command, `dualrun cutover`
 * with no subcommand and `dualrun help nosuch` printed help and exited 0, so a cron
 * line with an empty or misspelt variable (`dualrun $CMD`) passed as a success; they
 * are usage errors (exit 2) naming what is missing. And every command's --help shows
 * an example (the README's promise): cutover status/promote/rollback/history and
 * dead-letters list/show had none.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { buildProgram, loadCommands } from '../../../src/app/cli.ts';

await loadCommands();

function leaves(cmd: Command, prefix: string): { name: string; cmd: Command }[] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [{ name: prefix.trim(), cmd }];
  return subs.flatMap((c) => leaves(c, `${prefix} ${c.name()}`));
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => { text += s; }, writeErr: (s) => { text += s; } });
  cmd.outputHelp();
  return text;
}

describe('help and a missing command', () => {
  it('every command\'s --help has an example that runs that command', () => {
    const missing = leaves(buildProgram(), '')
      .filter(({ name, cmd }) => !(/\bExamples?\b/.test(helpOf(cmd)) && new RegExp(`\\$ .*dualrun ${name}\\b`).test(helpOf(cmd))))
      .map(({ name }) => name);
    expect(missing).toEqual([]);
  });

  it.each([
    [[], /dualrun needs a command: init, migrate/],
    [['cutover'], /dualrun cutover needs a command: status, promote, rollback, history/],
    [['help', 'nosuch'], /unknown command 'nosuch' for dualrun \(commands: init,/],
    [['cutover', 'help', 'nosuch'], /unknown command 'nosuch' for dualrun cutover \(commands: status, promote, rollback, history\)/],
  ])('dualrun %j exits 2 saying what is missing, after the help', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Commands:');
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('help that was asked for still exits 0 on stdout', async () => {
    for (const args of [['--help'], ['help'], ['help', 'cutover'], ['cutover', 'help', 'promote'], ['cutover', 'promote', '--help']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: dualrun');
    }
  });
});

/**
 * Regression: only `dualrun --help` and four commands' help said what they exit with; `datasets`,
 * `batch run`, `migrate`, `cutover status`... said nothing, and reconcile's, report's, promote's and
 * retry's own lines left out 2 (usage or config error) and 3 (runtime failure).
 */
describe('every command\'s --help states its exit codes', () => {
  it('each leaf command has an Exit codes line naming 2 (usage or config) and 3 (runtime), above its example', () => {
    const lacking = leaves(buildProgram(), '')
      .map(({ name, cmd }) => ({ name, help: helpOf(cmd) }))
      .filter(({ help }) => {
        const at = help.indexOf('Exit codes:');
        const codes = at < 0 ? '' : help.slice(at, help.indexOf('\n\n', at) < 0 ? undefined : help.indexOf('\n\n', at));
        return at < 0 || !/\b2 usage or config error/.test(codes) || !/\b3 /.test(codes) || at > help.search(/^Examples?\b/m);
      })
      .map(({ name }) => name);
    expect(lacking).toEqual([]);
  });
});
