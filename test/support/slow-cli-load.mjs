/**
 * Preloaded with NODE_OPTIONS=--import: makes the CLI's own module (src/app/cli.ts or
 * dist's cli.js) load DUALRUN_TEST_SLOW_LOAD_MS later (default 1500), as on a loaded
 * machine, and says on stderr when that load starts: bin/dualrun.js is running by then.
 * Tests use it to deliver a signal while the CLI loads, at a known moment.
 */
import { register } from 'node:module';
const hooks = `
import fs from 'node:fs';
export async function load(url, ctx, next) {
  if (/\\/src\\/app\\/cli\\.(ts|js)$/.test(url)) {
    fs.writeSync(2, 'DUALRUN_TEST: loading the CLI\\n');
    await new Promise((r) => setTimeout(r, Number(process.env.DUALRUN_TEST_SLOW_LOAD_MS ?? 1500)));
  }
  return next(url, ctx);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));
