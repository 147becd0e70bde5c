/**
 * Waiting for stdout before exiting. Writes to a pipe complete asynchronously;
 * process.exit() with writes pending cuts the output (at 64 KiB, a pipe's
 * buffer). An empty write's callback runs after every earlier write is done.
 */
export function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.destroyed || process.stdout.writableEnded) { resolve(); return; }
    process.stdout.write('', () => resolve());
  });
}
