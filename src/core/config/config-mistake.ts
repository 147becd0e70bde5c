/**
 * A config mistake found only when the database is read (an output table that is not there, a
 * column name no output has, a window column of a type no window can cut): the config is what to
 * correct, so it is DUALRUN_CONFIG_INVALID (exit 2) naming the file and the field, in the same
 * words as a schema error (`invalid config F: datasets.orders.reconcile.ignore: ...`), never a
 * runtime failure (exit 3, the code for a service that cannot be reached).
 */
import { DualrunError } from '../errors.ts';

export interface ConfigProblem { at: string; message: string }

/** `cause`: the database error that revealed it, whose fields (SQLSTATE, detail) are kept. */
export function configMistake(file: string | null, problems: readonly ConfigProblem[], details: Record<string, unknown> = {}, cause?: unknown): DualrunError {
  const list = problems.map((p) => `${p.at}: ${p.message}`);
  const head = list.length === 1 ? list[0] : `${list.length} problems:\n  - ${list.join('\n  - ')}`;
  return new DualrunError('DUALRUN_CONFIG_INVALID', `invalid config ${file ?? '(built-in config)'}: ${head}`, {
    details: { config: file, path: problems[0]?.at, problems: list, ...details }, ...(cause === undefined ? {} : { cause }),
  });
}
