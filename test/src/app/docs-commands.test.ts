/**
 * Every `dualrun ...` command shown in the README and docs must exist with the
 * options it is shown with (the commands themselves are run by the suites of
 * each part and by .ci/run; this keeps the docs from drifting away from the CLI).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, loadCommands } from '../../../src/app/cli.ts';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const files = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** `dualrun ...` invocations inside code blocks and inline code. */
function commandsIn(text: string): string[] {
  const found: string[] = [];
  for (const block of text.matchAll(/```(?:sh|bash|console)?\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      for (const m of line.matchAll(/(?:^|\$ |&& |npx )dualrun ([^#&|>]*)/g)) found.push(m[1].trim());
    }
  }
  return found;
}

function tokenize(s: string): string[] {
  return [...s.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0].replace(/^["']|["']$/g, ''));
}

function check(program: Command, args: string[]): string | null {
  let cmd = program;
  let i = 0;
  while (i < args.length && !args[i].startsWith('-')) {
    const sub = cmd.commands.find((c) => c.name() === args[i]);
    if (!sub) break;
    cmd = sub;
    i++;
  }
  if (cmd === program && args.length > 0 && !args[0].startsWith('-')) return `unknown command ${args[0]}`;
  const known = new Set([...cmd.options, ...program.options].flatMap((o) => [o.long, o.short]).filter(Boolean));
  for (const a of args.slice(i)) {
    if (a.startsWith('--') || /^-[a-zA-Z]$/.test(a)) {
      const name = a.split('=')[0];
      if (!known.has(name) && name !== '--help' && name !== '-h') return `${cmd.name()}: unknown option ${name}`;
    }
  }
  return null;
}

// Every command's real options (the CLI itself loads a command's module only when it runs).
await loadCommands();

describe('commands shown in the docs', () => {
  const program = buildProgram();
  for (const f of files) {
    const cmds = commandsIn(fs.readFileSync(path.join(root, f), 'utf8'));
    if (cmds.length === 0) continue;
    it(`${f}: every dualrun command exists with its options`, () => {
      const problems = cmds.map((c) => [c, check(program, tokenize(c))]).filter(([, p]) => p);
      expect(problems).toEqual([]);
    });
  }
  it('the checker itself catches a misspelt option and an unknown command', () => {
    expect(check(program, tokenize('batch run orders --windw 2026-11-20'))).toBe('run: unknown option --windw');
    expect(check(program, tokenize('reconsile orders'))).toBe('unknown command reconsile');
    expect(check(program, tokenize('cutover promote orders --reason "clean week" --actor ana'))).toBeNull();
  });
  it('the README starts with the demo and test commands', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(firstBlock).toContain('npm install && npx dualrun demo');
    expect(firstBlock).toContain('npm test');
    expect(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8')).toContain('npm test');
  });
});
