/**
 * The CLI as installed: `bin/dualrun.js` runs the compiled dist/ (the rest of
 * the suite runs the sources, DUALRUN_FROM_SOURCE=1, so it never tests a stale
 * build). dist/ is rebuilt here first when any source file is newer than it.
 * `dualrun --help` loads no command module, so it answers fast: measured as the
 * process's own CPU time, which a loaded machine does not inflate.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, buildProgram, loadCommands } from '../../../src/app/cli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = path.join(root, 'bin', 'dualrun.js');
const DIST_CLI = path.join(root, 'dist', 'src', 'app', 'cli.js');
// Prints the process's CPU time (µs) on exit.
const CPU_PROBE = `data:text/javascript,process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('cpu-us:'+(u.user+u.system)+'\\n')})`;

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const fromDist = (args: string[], opts: { cwd?: string } = {}) => {
  const env = { ...process.env, DUALRUN_LOG_LEVEL: 'warn' } as NodeJS.ProcessEnv;
  delete env.DUALRUN_FROM_SOURCE;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', CPU_PROBE, BIN, ...args], { cwd: opts.cwd ?? root, env, encoding: 'utf8', timeout: 60_000 });
  return { ...r, wallMs: performance.now() - t0, cpuMs: Number(/cpu-us:(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1000 };
};

beforeAll(() => {
  const built = fs.existsSync(DIST_CLI) ? fs.statSync(DIST_CLI).mtimeMs : 0;
  const newest = Math.max(...['src', 'legacy-batch', 'streaming', 'reconcile'].map((d) => newestSource(path.join(root, d))));
  if (newest > built) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore', timeout: 300_000 });
}, 320_000);

describe('the installed CLI (dist/)', () => {
  it('dualrun --help answers from dist without loading any command module (fast: little CPU)', () => {
    const r = fromDist(['--help']);
    expect(r.status).toBe(0);
    for (const e of COMMANDS) expect(r.stdout).toContain(`  ${e.term}`);
    // tsx would cost ~300 ms of CPU on its own; node itself ~50 ms.
    expect(r.cpuMs).toBeLessThan(200);
    console.log(`dualrun --help from dist: ${r.cpuMs.toFixed(0)} ms CPU, ${r.wallMs.toFixed(0)} ms wall`);
  });

  it('the summaries in dualrun --help are the commands\' own', async () => {
    await loadCommands();
    const real = new Map(buildProgram().commands.map((c) => [c.name(), c.description()]));
    expect(Object.fromEntries(COMMANDS.map((e) => [e.term.split(' ')[0], e.description]))).toEqual(Object.fromEntries(real));
  });

  it('a command runs from dist: its files (examples, schema) resolve from the package, usage errors exit 2', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-dist-'));
    try {
      const init = fromDist(['init'], { cwd: dir });
      expect(init.status, init.stderr).toBe(0);
      expect(fs.existsSync(path.join(dir, 'dualrun.yaml'))).toBe(true);
      const bad = fromDist(['reconcile', 'orders', '--format', 'yaml'], { cwd: dir });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/Allowed choices are text, json, md/);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('a user transform in TypeScript still loads from dist (tsx registered only then)', () => {
    const probe = `const { importDefaultExport } = await import(${JSON.stringify(path.join(root, 'dist', 'src', 'core', 'load-user-module.js'))});
      const fn = await importDefaultExport(${JSON.stringify(path.join(root, 'examples', 'shop', 'transforms', 'orders.ts'))});
      console.log(typeof fn);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    expect(out.trim()).toBe('function');
  });
});
