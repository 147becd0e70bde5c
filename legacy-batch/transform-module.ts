/**
 * The optional per-row batch transform: a module whose default export maps one
 * source row to a row, several rows, or nothing (null drops it). The CLI runs
 * under tsx, so a .ts module loads as well as .js.
 */
import { pathToFileURL } from 'node:url';
import { DualrunError } from '../src/errors.ts';

export type BatchRow = Record<string, unknown>;
export type BatchTransform = (row: BatchRow) => BatchRow | BatchRow[] | null | undefined | Promise<BatchRow | BatchRow[] | null | undefined>;

export async function loadTransform(dataset: string, file: string): Promise<BatchTransform> {
  let fn: unknown;
  try {
    fn = await importDefault(file);
  } catch (e) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${dataset}.batch.transform: cannot load ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof fn !== 'function') {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${dataset}.batch.transform: ${file} has no default export function (row) => row | row[] | null`);
  }
  return fn as BatchTransform;
}

/**
 * A .ts module outside a `"type": "module"` package is CommonJS to Node, and
 * Node 20 refuses to require() it through tsx's ESM hook; tsx's own tsImport
 * loads it (its CommonJS namespace nests the default export once more).
 */
async function importDefault(file: string): Promise<unknown> {
  try {
    return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (e) {
    if (!/require\(\)|ERR_REQUIRE/.test(`${(e as Error).message} ${(e as { code?: string }).code ?? ''}`)) throw e;
    const { tsImport } = await import('tsx/esm/api');
    const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: { default?: unknown } | unknown };
    const d = mod.default as { default?: unknown } | undefined;
    return typeof d === 'function' ? d : d?.default;
  }
}

/** Applies the transform to a page of rows. */
export async function transformPage(fn: BatchTransform, rows: BatchRow[]): Promise<BatchRow[]> {
  const out: BatchRow[] = [];
  for (const row of rows) {
    const r = await fn(row);
    if (r == null) continue;
    if (Array.isArray(r)) out.push(...r);
    else out.push(r);
  }
  return out;
}
