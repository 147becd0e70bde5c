#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx dualrun` works right after
// `npm install` and users' transform modules may be TypeScript too.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
