/**
 * The layering of the sources (docs/development.md, "Layers"): nothing in src/core/,
 * legacy-batch/, streaming/ or reconcile/ imports from src/app/ (or from src/index.ts,
 * the public API, which re-exports the app's dataset status); src/core/ does not import
 * from the paths either. Pure: reads each file's import specifiers, no services.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const PATHS = ['legacy-batch', 'streaming', 'reconcile'];
const CHECKED = ['src/core', ...PATHS];

type Layer = 'core' | 'path' | 'app' | 'api' | 'other';

/** The layer of a repo-relative path (forward slashes). */
function layerOf(rel: string): Layer {
  if (rel === 'src/index.ts') return 'api';
  if (rel.startsWith('src/core/')) return 'core';
  if (rel.startsWith('src/app/')) return 'app';
  if (PATHS.some((p) => rel.startsWith(`${p}/`))) return 'path';
  return 'other';
}

const FORBIDDEN: Partial<Record<Layer, Layer[]>> = { core: ['app', 'api', 'path'], path: ['app', 'api'] };

/** Every module specifier of a source text: static imports and exports, import(), require(), import type. */
function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The repo-relative file a specifier names; the package's own name counts as its public API. */
function target(fromRel: string, spec: string): string | null {
  if (spec === 'dualrun' || spec.startsWith('dualrun/')) return 'src/index.ts';
  if (!spec.startsWith('.')) return null; // a dependency
  return path.relative(root, path.resolve(root, path.dirname(fromRel), spec)).split(path.sep).join('/');
}

/** The imports of one file that cross the layering, as "file imports 'spec' (→ resolved, layer)". */
function violations(fromRel: string, text: string): string[] {
  const forbidden = FORBIDDEN[layerOf(fromRel)] ?? [];
  const out: string[] = [];
  for (const spec of specifiers(text)) {
    const to = target(fromRel, spec);
    if (to === null) continue;
    const layer = layerOf(to);
    if (forbidden.includes(layer)) out.push(`${fromRel} imports '${spec}' (→ ${to}, ${layer === 'path' ? 'a path' : layer === 'api' ? 'the public API' : 'src/app'})`);
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return tsFiles(rel);
    return /\.[cm]?tsx?$/.test(e.name) ? [rel] : [];
  });
}

function allFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
}

describe('architecture layers', () => {
  it('src/core, legacy-batch, streaming and reconcile never import src/app; src/core never imports the paths', () => {
    const files = CHECKED.flatMap(tsFiles);
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((f) => violations(f, fs.readFileSync(path.join(root, f), 'utf8')));
    expect(found, `imports across the layers (docs/development.md, "Layers"):\n${found.join('\n')}`).toEqual([]);
  });

  it('every source under src/ is in src/core/ or src/app/, except the public API src/index.ts', () => {
    const loose = allFiles('src').filter((f) => f !== 'src/index.ts' && !f.startsWith('src/core/') && !f.startsWith('src/app/'));
    expect(loose).toEqual([]);
  });

  it('the checker catches each kind of crossing import and lets the allowed ones through', () => {
    expect(violations('src/core/db/x.ts', "import { a } from '../../app/cli.ts';")).toEqual([
      "src/core/db/x.ts imports '../../app/cli.ts' (→ src/app/cli.ts, src/app)",
    ]);
    expect(violations('src/core/x.ts', "import type { W } from '../../reconcile/types.ts';")).toEqual([
      "src/core/x.ts imports '../../reconcile/types.ts' (→ reconcile/types.ts, a path)",
    ]);
    expect(violations('streaming/x.ts', "const m = await import('../src/app/commands/stream.ts');")).toHaveLength(1);
    expect(violations('reconcile/x.ts', "export { a } from '../src/index.ts';")).toHaveLength(1);
    expect(violations('legacy-batch/x.ts', "import { runtime } from 'dualrun';")).toHaveLength(1);
    // Allowed: paths on the core, paths on each other, the app on anything, comments and strings.
    expect(violations('streaming/x.ts', "import { e } from '../src/core/errors.ts';\nimport { r } from '../reconcile/types.ts';")).toEqual([]);
    expect(violations('src/app/x.ts', "import { s } from '../../streaming/index.ts';")).toEqual([]);
    expect(violations('src/core/x.ts', "// see src/app/cli.ts\nconst s = \"import { x } from '../app/cli.ts'\";")).toEqual([]);
  });
});
