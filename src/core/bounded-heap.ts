/**
 * Long scans through bounded memory: a stream worker holds one fetch of records at a
 * time (kafka-transport.ts bounds it), a reconcile one cursor fetch and its capped
 * samples, so their live heaps stay small (~30–60 MB); but V8 lets the old generation
 * grow to about four times the live heap before collecting it, which made a worker's
 * resident size 400–500 MB. A smaller growing factor keeps it near 150 MB for a little
 * more GC time (measured in docs/streaming.md, "Memory"). V8 reads this flag at each
 * collection, so setting it once at start-up is enough; a `--heap-growing-percent`
 * given by the user (node flags or NODE_OPTIONS) is left as it is.
 */
import v8 from 'node:v8';

const FLAG = '--heap-growing-percent';
export const HEAP_GROWING_PERCENT = 30;

let done = false;

export function boundHeapGrowth(): void {
  if (done) return;
  done = true;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith(FLAG));
  if (!given) v8.setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
}
