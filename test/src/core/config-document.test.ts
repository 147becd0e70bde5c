/** `dualrun add` edits dualrun.yaml: a new entry leaves every other byte alone; a replaced one keeps the comments. */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { hasDataset, withDataset } from '../../../src/core/scaffold/config-document.ts';
import { withoutExample } from '../../../src/app/commands/init.ts';
import { compileConfig } from '../../../src/core/config/compile-config.ts';

const INIT = fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', 'examples', 'init', 'dualrun.yaml'), 'utf8');
const entry = (output: string) => ({ name: 'customers', entry: { key: ['region', 'id'], batch: { output, schedule: '0 2 * * *' } }, comments: { key: 'primary key', 'batch.output': 'created by migrate' }, heading: 'customers: scaffolded' });

describe('config document edits', () => {
  it('appends after the last dataset: the existing file stays byte for byte, the entry carries its comments', () => {
    const text = withDataset(INIT, entry('shop.c_batch'), 'dualrun.yaml');
    expect(text.startsWith(INIT)).toBe(true);
    expect(text.slice(INIT.length)).toBe('\n  # customers: scaffolded\n  customers:\n    key: [region, id] # primary key\n    batch:\n      output: shop.c_batch # created by migrate\n      schedule: "0 2 * * *"\n');
    expect(parse(text).datasets.customers.batch.schedule).toBe('0 2 * * *');
    expect(hasDataset(text, 'customers', 'x')).toBe(true);
  });

  it('fills `datasets: {}` and keeps what follows it; writes a fresh file when there is none', () => {
    const text = withDataset('database: { url: x }\ndatasets: {}\n# the end\n', entry('s.b'), 'x');
    expect(text).toMatch(/^database: \{ url: x \}\ndatasets:\n {2}# customers: scaffolded\n {2}customers:\n/);
    expect(text.endsWith('# the end\n')).toBe(true);
    expect(Object.keys(parse(text).datasets)).toEqual(['customers']);
    const commented = withDataset('datasets: {}   # add one with: dualrun add\n', entry('s.b'), 'x');
    expect(Object.keys(parse(commented).datasets)).toEqual(['customers']);
    expect(commented).toContain('# add one with: dualrun add');
    const fresh = withDataset(null, entry('s.b'), 'x');
    expect(parse(fresh)).toMatchObject({ database: { url: '${DATABASE_URL:-}' }, datasets: { customers: { key: ['region', 'id'] } } });
  });

  it('init --no-example: the template without its dataset still compiles, and add fills it in', () => {
    const bare = withoutExample(INIT);
    expect(bare.startsWith(INIT.slice(0, INIT.indexOf('\ndatasets:') + 1))).toBe(true);
    expect(compileConfig(parse(bare), { path: null, env: {} }).datasets).toEqual({});
    const added = withDataset(bare, entry('s.b'), 'x');
    expect(Object.keys(parse(added).datasets)).toEqual(['customers']);
  });

  it('--force replaces the entry and keeps the comments elsewhere', () => {
    const first = withDataset(INIT, entry('shop.old'), 'x');
    const second = withDataset(first, entry('shop.new'), 'x');
    expect(parse(second).datasets.customers.batch.output).toBe('shop.new');
    expect(second).not.toContain('shop.old');
    expect(second).toContain('# The toolkit\'s Postgres (schema `dualrun`) and, by default, both outputs.');
    expect(second).toContain('# what the legacy nightly job writes');
    expect(Object.keys(parse(second).datasets)).toEqual(['orders', 'customers']);
  });
});
