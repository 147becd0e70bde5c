/** Durations in config: `15m`, `48h`, `7d`, `30s`, `500ms`, or a combination such as `1h30m`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (t === '0') return 0;
  if (!DURATION.test(t)) return null;
  let ms = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
