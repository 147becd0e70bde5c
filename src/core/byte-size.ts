/** Sizes in config: `512MB`, `1GB`, `64kB` (powers of 1024, as Postgres reads them), or plain bytes. */
const UNIT: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

export function parseByteSize(text: string): number | null {
  const m = /^(\d+)\s*(B|kB|KB|MB|GB|TB)?$/i.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT[(m[2] ?? 'b').toLowerCase()];
}

export function formatByteSize(bytes: number): string {
  for (const [unit, size] of [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['kB', 1024]] as const) {
    if (bytes >= size) return `${(bytes / size).toFixed(bytes % size === 0 ? 0 : 1)} ${unit}`;
  }
  return `${bytes} B`;
}
