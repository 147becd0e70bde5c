/**
 * Exit codes of reconcile and report (DESIGN): 0 match, 1 mismatch, 4 pending,
 * 3 failure. With several windows the worst wins, in this order:
 *   error (3) > mismatch (1) > pending (4) > match (0)
 * A failure comes first because it leaves the answer incomplete (as diff and
 * grep do); a found mismatch outranks "not settled yet"; match only when every
 * window matched. No windows at all is pending: nothing was judged.
 */
import { EXIT, type ExitCode } from '../src/core/errors.ts';
import type { WindowStatus } from './types.ts';

const RANK: Record<WindowStatus, number> = { error: 3, mismatch: 2, pending: 1, match: 0 };
const EXIT_OF: Record<WindowStatus, ExitCode> = { error: EXIT.runtime, mismatch: EXIT.checkFailed, pending: EXIT.pending, match: EXIT.ok };

export function worstStatus(statuses: readonly WindowStatus[]): WindowStatus {
  if (statuses.length === 0) return 'pending';
  return statuses.reduce((w, s) => (RANK[s] > RANK[w] ? s : w), 'match' as WindowStatus);
}

export function exitCodeFor(statuses: readonly WindowStatus[]): ExitCode {
  return EXIT_OF[worstStatus(statuses)];
}
