/**
 * The terminal a person watches: one progress bar at a time (cli-progress) on
 * stderr, and lines (logs, per-window results) printed above it instead of
 * through it. Without a TTY there is no bar and lines go straight to their stream.
 */
import cliProgress from 'cli-progress';

let bars: cliProgress.MultiBar | null = null;

export interface Progress { increment(payload?: Record<string, unknown>): void; stop(): void }

/** A bar on stderr when it is a terminal and there is more than one step; else null (pipes and logs stay quiet). */
export function startProgress(total: number, format: string, payload: Record<string, unknown> = {}): Progress | null {
  if (!process.stderr.isTTY || total < 2 || bars) return null;
  const multi = new cliProgress.MultiBar({ stream: process.stderr, format, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  const bar = multi.create(total, 0, payload);
  bars = multi;
  return {
    increment: (p) => bar.increment(1, p),
    // A last render first: it prints the lines still waiting above the bar.
    stop: () => { multi.update(); multi.stop(); if (bars === multi) bars = null; },
  };
}

/** A line on stderr, above the bar when one is shown. */
export function stderrLine(text: string): void {
  const line = text.endsWith('\n') ? text : `${text}\n`;
  if (bars) bars.log(line);
  else process.stderr.write(line);
}

/** True when stdout shares the terminal with a visible bar: write results above it. */
export function barOnScreen(): boolean {
  return bars !== null && Boolean(process.stdout.isTTY);
}

export function lineAboveBar(text: string): void {
  bars?.log(text.endsWith('\n') ? text : `${text}\n`);
}
