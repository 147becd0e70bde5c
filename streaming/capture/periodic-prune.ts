/**
 * Pruning as a side job of a changelog reader (the stream worker's changelog
 * transport, the Kafka capture relay): at most once every `everyMs`, in the
 * background on its own connection, so the reader never waits for it; and once
 * more when a `--until-idle` run ends caught up, so runs started by a scheduler
 * keep the changelog short too. A failed prune is logged and retried next time:
 * it never stops the reader.
 */
import type { Runtime } from '../../src/core/runtime.ts';
import { pruneChangelog } from './changelog-prune.ts';

export const PRUNE_EVERY_MS = 60_000;

export interface PeriodicPrune {
  /** Starts a prune in the background if one is due and none is running. */
  kick(signal: AbortSignal): void;
  /** Waits for a running prune; with `final`, then prunes once more. */
  finish(final: boolean, signal: AbortSignal): Promise<void>;
}

export function periodicPrune(rt: Runtime, table: string, everyMs = PRUNE_EVERY_MS): PeriodicPrune {
  let running: Promise<void> | null = null;
  let dueAt = 0;
  const start = (signal: AbortSignal) => {
    running = pruneChangelog(rt, table, { signal })
      .then(() => undefined, (e: unknown) => { rt.log.warn({ err: e, table }, `changelog of ${table}: prune failed (retried later)`); })
      .finally(() => { running = null; dueAt = Date.now() + everyMs; });
    return running;
  };
  return {
    kick(signal) {
      if (!running && Date.now() >= dueAt && !signal.aborted) void start(signal);
    },
    async finish(final, signal) {
      if (running) await running;
      if (final && !signal.aborted) await start(signal);
    },
  };
}
