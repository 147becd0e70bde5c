/**
 * SIGINT/SIGTERM that arrived while the CLI was still loading. bin/dualrun.js catches
 * them from its first line: before, Node's default killed the process (no exit code,
 * nothing stopped cleanly) when a signal came in the first ~0.3 s (compiled) or
 * 1–2 s (sources through tsx, a loaded machine) of any command, `dualrun stream` and
 * `capture` included. The command runner takes the signal over when it starts and
 * stops at once, with the code a signal gets at that point (0 for the workers).
 *
 * The hand-over is a record on `process` under EARLY_SIGNALS (bin is plain JavaScript,
 * loaded before tsx or dist/); without it (the library API) there is nothing to take.
 */
export const EARLY_SIGNALS = Symbol.for('dualrun.earlySignals');

interface EarlySignals {
  /** Stops catching; returns the first signal caught, if any. */
  take(): NodeJS.Signals | null;
}

/** The signal caught before the command started (and stops catching early ones), else null. */
export function takeEarlySignal(): NodeJS.Signals | null {
  const early = (process as unknown as Record<symbol, EarlySignals | undefined>)[EARLY_SIGNALS];
  return early ? early.take() : null;
}
