#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) through tsx: node bin/run-ts.js FILE [ARGS...]
import { register } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

// Both hooks: a user's .ts module outside a "type": "module" package loads as CommonJS.
register();
registerCjs();
const [file, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], file, ...rest];
await import(pathToFileURL(path.resolve(file)).href);
