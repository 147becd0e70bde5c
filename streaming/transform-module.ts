/**
 * The user's transform module (stream.transform; TypeScript allowed, the CLI runs
 * under tsx). Its default export is `(row, ctx) => row | row[] | null`, or an async
 * function resolving to one of those (awaited record by record, so order and keyed
 * state hold); throwing (or rejecting) sends the record to dead letters. Optional
 * named exports:
 *   - `stateKey(row, ctx) => string`: the transform is stateful; `ctx.state` is the
 *     value kept for that key (undefined at first) and `ctx.setState(v)` replaces it.
 *     State is loaded for a whole batch in one query and committed with its rows.
 *   - `handlesDeletes = true`: deletes go through the transform too (`ctx.op === 'd'`,
 *     row = the before image) and whatever it returns is upserted; by default a
 *     delete removes the output row with the dataset key and skips the transform.
 */
import { importUserModule } from '../src/core/load-user-module.ts';
import { DualrunError } from '../src/core/errors.ts';
import type { JsonRow } from './change-event.ts';

export interface TransformContext {
  readonly dataset: string;
  readonly op: 'c' | 'u' | 'r' | 'd';
  readonly before: JsonRow | null;
  readonly version: bigint;
  readonly sourceTs: Date;
  /** The keyed state of `stateKey(row)`; undefined for a new key or a stateless transform. */
  readonly state: unknown;
  setState(value: unknown): void;
}

export type TransformResult = JsonRow | JsonRow[] | null | undefined;
export type TransformFn = (row: JsonRow, ctx: TransformContext) => TransformResult | Promise<TransformResult>;

export interface TransformModule {
  readonly transform: TransformFn;
  readonly stateKey: ((row: JsonRow, ctx: TransformContext) => string | Promise<string>) | null;
  readonly handlesDeletes: boolean;
}

const IDENTITY: TransformModule = Object.freeze({ transform: (row: JsonRow) => row, stateKey: null, handlesDeletes: false });

/** Whether no transform is configured (the pipeline then skips building a context per record). */
export function isIdentity(t: TransformModule): boolean {
  return t.transform === IDENTITY.transform && t.stateKey === null;
}

export async function loadTransform(modulePath: string | null): Promise<TransformModule> {
  if (!modulePath) return IDENTITY;
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(modulePath);
  } catch (e) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `stream.transform ${modulePath} could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  // A TS module loaded through CJS interop may nest the default export once more.
  const def = typeof mod.default === 'function' ? mod.default : (mod.default as Record<string, unknown> | undefined)?.default;
  if (typeof def !== 'function') throw new DualrunError('DUALRUN_CONFIG_INVALID', `stream.transform ${modulePath}: expected a default export (row, ctx) => row | row[] | null (or an async function resolving to one)`);
  return {
    transform: def as TransformFn,
    stateKey: typeof mod.stateKey === 'function' ? (mod.stateKey as TransformModule['stateKey']) : null,
    handlesDeletes: mod.handlesDeletes === true,
  };
}
