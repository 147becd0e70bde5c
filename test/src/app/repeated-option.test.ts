/**
 * A single-valued option given twice kept the last value without a word (commander's
 * default): `reconcile orders --window 2026-11-01 --window 2026-11-02` judged only 11-02,
 * `--format json --format text` printed text to a script parsing JSON, `--config a
 * --config b` read b. Now every such option, on every command, given twice with different
 * values is a usage error (exit 2) naming it, before anything runs; the same value twice and
 * variadic options (`--dataset a --dataset b`) are fine.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { freePort } from '../../support/long-running-cli.ts';
import { buildProgram, loadCommands } from '../../../src/app/cli.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

await loadCommands();

function leaves(cmd: Command, words: string[]): { words: string[]; cmd: Command }[] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [{ words, cmd }];
  return subs.flatMap((c) => leaves(c, [...words, c.name()]));
}

/** A config whose database refuses: whatever runs fails with 3, a usage error is 2. */
async function refusedConfig(): Promise<{ dir: string; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-repeated-'));
  const file = path.join(dir, 'dualrun.yaml');
  fs.writeFileSync(file, `database:\n  url: postgres://u:p@127.0.0.1:${await freePort()}/db\ndatasets:\n  orders:\n    key: [id]\n    batch: { output: a.b }\n    stream: { output: a.s, source: { topic: t } }\n`);
  return { dir, file };
}

describe('an option given twice', () => {
  it('every single-valued option of every command refuses two different values (in process, nothing runs)', async () => {
    const accepted: string[] = [];
    for (const { words, cmd } of leaves(buildProgram(), [])) {
      for (const opt of cmd.options.filter((o) => !o.variadic && (o.required || o.optional))) {
        const [a, b] = opt.argChoices ? opt.argChoices.slice(0, 2) : ['1', '2'];
        const program = buildProgram();
        program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
        const flag = opt.long ?? opt.short!;
        const err = await program.parseAsync(['node', 'dualrun', ...words, flag, a, flag, b, 'x'], { from: 'node' }).then(() => null, (e: { code?: string }) => e);
        if (err?.code !== 'dualrun.repeatedOption') accepted.push(`${words.join(' ')} ${flag}: ${err?.code ?? 'ran'}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('reconcile --window twice: exit 2 naming it, before connecting', async () => {
    const { dir, file } = await refusedConfig();
    const r = await runCli(['--config', file, 'reconcile', 'orders', '--window', '2026-11-01', '--window', '2026-11-02'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: option '--window <date>' given twice ("2026-11-01", then "2026-11-02"): give it once`);
  });

  it('--format json then text: exit 2, and stdout is still the JSON error a script can parse', async () => {
    const { dir, file } = await refusedConfig();
    const r = await runCli(['--config', file, 'datasets', '--format', 'json', '--format=text'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('DUALRUN_USAGE');
  });

  it('--config twice (global option): exit 2', async () => {
    const { dir, file } = await refusedConfig();
    const r = await runCli(['--config', file, '-c', path.join(dir, 'other.yaml'), 'datasets'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '-c, --config <path>' given twice");
  });

  it('the same value twice, and a variadic option given twice, still run', async () => {
    const { dir, file } = await refusedConfig();
    const same = await runCli(['--config', file, 'datasets', '--format', 'json', '--format', 'json'], { cwd: dir });
    expect(same.code, same.stderr).toBe(3);
    const variadic = await runCli(['--config', file, 'stream', '--dataset', 'orders', '--dataset', 'orders', '--until-idle'], { cwd: dir });
    expect(variadic.code, variadic.stderr).toBe(3);
    expect(variadic.stderr).toContain('DUALRUN_DB_UNREACHABLE');
  });
});
