import { DualrunError } from '../errors.ts';

/** Placeholder action for a command whose implementation has not landed yet. */
export function notYet(what: string): never {
  throw new DualrunError('DUALRUN_USAGE', `${what} is not implemented yet`);
}
