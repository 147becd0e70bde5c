/**
 * The settings a reconciler scan sets for itself, per transaction (SET LOCAL),
 * so it runs as fast on the server a user has (default work_mem 4 MB, JIT on)
 * as on a tuned one, and leaves the server's configuration alone:
 *  - jit off: compiling the hashing expressions costs more than a second per
 *    query and per parallel worker, and a scan at memory speed never earns it back;
 *  - work_mem sized to the bucket count, so the per-bucket hash aggregate (and a
 *    drill-down's hash join) never spills to disk;
 *  - for the fingerprint, sorting and merge joins off: hashing rows into buckets beats sorting the
 *    whole window, which the planner otherwise picks when it misjudges the number
 *    of buckets (a hash modulo B looks to it like one group per row).
 */

/** Bytes of hash-aggregate memory per bucket (count, 128-bit sum, numeric column sums, entry), with room to spare. */
const BYTES_PER_BUCKET = 1024;
const MIN_WORK_MEM_MB = 64;

/** For the whole reconciler transaction: every query of it scans (fingerprint, drill-down, duplicates). */
export function sessionScanSettings(buckets: number): [string, string][] {
  const mb = Math.max(MIN_WORK_MEM_MB, Math.ceil((buckets * BYTES_PER_BUCKET) / (1024 * 1024)));
  return [['jit', 'off'], ['work_mem', `${mb}MB`]];
}

/** For the fingerprint only (the cross-database drill-down does need its ORDER BY). */
export const FINGERPRINT_PLAN: Record<string, string> = { enable_sort: 'off', enable_mergejoin: 'off' };
