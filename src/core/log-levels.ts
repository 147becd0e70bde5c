/** The log levels `--log-level` and DUALRUN_LOG_LEVEL accept (pino's, plus silent). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Stack traces are for debugging: shown at debug and trace only. */
export function showsStacks(level: string): boolean {
  return level === 'debug' || level === 'trace';
}
