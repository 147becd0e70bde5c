/**
 * A wait given up because the command is stopping (SIGINT/SIGTERM aborted its
 * signal), as opposed to a failure of what was awaited. A connect step abandoned
 * at a stop once surfaced as "cannot reach Kafka ... no answer within 30 s" and
 * `dualrun capture` exited 3 on a plain SIGTERM. Long-running workers treat this
 * error as their clean stop; other commands exit 130/143 for it (command-runner).
 */
import { DualrunError } from './errors.ts';

function signalName(signal: AbortSignal): string {
  const m = (signal.reason as Error | undefined)?.message;
  return m === 'SIGINT' || m === 'SIGTERM' ? m : 'a stop';
}

/** DUALRUN_INTERRUPTED: `what` was not finished because the command is stopping. */
export function stoppedError(what: string, signal: AbortSignal, cause?: unknown): DualrunError {
  const by = signalName(signal);
  return new DualrunError('DUALRUN_INTERRUPTED', `${what}: stopped by ${by} before it finished`, { cause, details: { signal: by === 'a stop' ? null : by } });
}

/** Whether `e` is (or was caused by) a stop of this signal: the signal is aborted and the error says interrupted. */
export function isStopped(e: unknown, signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  for (let c = e, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof DualrunError && c.code === 'DUALRUN_INTERRUPTED') return true;
  }
  return false;
}

/** A promise that rejects with stoppedError once `signal` aborts (never settles otherwise); `dispose` removes the listener. */
export function rejectOnStop(what: string, signal: AbortSignal | undefined): { promise: Promise<never>; dispose(): void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort = () => undefined as void;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(stoppedError(what, signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}
