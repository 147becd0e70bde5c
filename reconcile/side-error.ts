/**
 * A database error on one side (a role's statement_timeout, a permission on the output or its
 * schema, a materialized view never refreshed) names that side and its output: the server's
 * message alone does not say which of the two outputs, or databases, refused. The database's own
 * fields are kept (`error.db`).
 */
import { DualrunError, toDualrunError } from '../src/core/errors.ts';

export async function onSide<T>(field: string, table: { text: string }, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const err = toDualrunError(e, 'DUALRUN_RECONCILE_FAILED');
    if (err !== e) throw new DualrunError(err.code, `${field} ${table.text}: ${err.message}`, { cause: e });
    throw e;
  }
}
