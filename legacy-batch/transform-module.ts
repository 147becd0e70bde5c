/**
 * The optional per-row batch transform: a module whose default export maps one
 * source row to a row, several rows, or nothing (null drops it). The CLI runs
 * under tsx, so a .ts module loads as well as .js.
 */
import { importDefaultExport } from '../src/core/load-user-module.ts';
import { DualrunError } from '../src/core/errors.ts';

export type BatchRow = Record<string, unknown>;
export type BatchTransform = (row: BatchRow) => BatchRow | BatchRow[] | null | undefined | Promise<BatchRow | BatchRow[] | null | undefined>;

export async function loadTransform(dataset: string, file: string): Promise<BatchTransform> {
  let fn: unknown;
  try {
    fn = await importDefaultExport(file);
  } catch (e) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${dataset}.batch.transform: cannot load ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof fn !== 'function') {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${dataset}.batch.transform: ${file} has no default export function (row) => row | row[] | null`);
  }
  return fn as BatchTransform;
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
