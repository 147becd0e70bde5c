#!/usr/bin/env node
// The CLI from compiled JavaScript (dist/, built by `npm run build`, which `npm install`
// runs through the `prepare` script), so it starts fast. DUALRUN_FROM_SOURCE=1 runs the
// TypeScript sources through tsx instead (the test suite does, so it never tests a stale
// build); so does a checkout whose dist/ has not been built yet. Users' TypeScript
// transforms load through tsx either way (src/core/load-user-module.ts).
import fs from 'node:fs';

// A signal while the CLI loads is kept for the command, which stops at once when it
// starts (src/core/early-signals.ts); Node's default killed the process instead.
// Unclaimed (a path that never starts a command) it exits within the 4 s stop deadline.
{
  let caught = null;
  let timer;
  const exitFor = (sig) => (sig === 'SIGINT' ? 130 : 143);
  const keep = (sig) => {
    if (caught) process.exit(exitFor(sig));
    caught = sig;
    timer = setTimeout(() => process.exit(exitFor(sig)), 4000);
    timer.unref();
  };
  process.on('SIGINT', keep);
  process.on('SIGTERM', keep);
  process[Symbol.for('dualrun.earlySignals')] = {
    take() {
      process.off('SIGINT', keep);
      process.off('SIGTERM', keep);
      clearTimeout(timer);
      delete process[Symbol.for('dualrun.earlySignals')];
      return caught;
    },
  };
}

const dist = new URL('../dist/src/app/cli.js', import.meta.url);
let main;
if (process.env.DUALRUN_FROM_SOURCE === '1' || !fs.existsSync(dist)) {
  const { register } = await import('tsx/esm/api');
  const { register: registerCjs } = await import('tsx/cjs/api');
  // Both hooks: a user's .ts module outside a "type": "module" package loads as CommonJS.
  register();
  registerCjs();
  ({ main } = await import('../src/app/cli.ts'));
} else {
  ({ main } = await import(dist.href));
}
await main(process.argv);
