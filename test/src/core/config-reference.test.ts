import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

it('docs/config-reference.md is generated from the shipped JSON Schema and up to date', () => {
  const generated = execFileSync(process.execPath, ['bin/run-ts.js', 'scripts/config-reference.ts'], { cwd: root, encoding: 'utf8' });
  expect(generated).toContain('`datasets.<name>.cutover.promoteAfter`');
  expect(fs.readFileSync(path.join(root, 'docs', 'config-reference.md'), 'utf8')).toBe(generated);
});
