#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx dualrun` works right after
// `npm install` and users' transform modules may be TypeScript too.
import { register } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

// Both hooks: a user's .ts module outside a "type": "module" package loads as CommonJS.
register();
registerCjs();
const { main } = await import('../src/cli.ts');
await main(process.argv);
