/**
 * Files that ship beside the code (migrations, the config schema, examples),
 * found from the package root, so they resolve the same from the sources
 * (src/core/…) and from the compiled build (dist/src/core/…).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

function packageRoot(): string {
  if (root) return root;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return (root = dir);
    if (path.dirname(dir) === dir) throw new Error('dualrun: package.json not found above the code');
  }
}

export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}
