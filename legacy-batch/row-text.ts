/**
 * JavaScript values from a transform, as the text Postgres reads for the target
 * column type (the load casts `text` to each column's type inside Postgres).
 */
export function toPgText(value: unknown, targetType: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value) && targetType.endsWith('[]')) return arrayLiteral(value);
  return JSON.stringify(value);
}

function arrayLiteral(items: unknown[]): string {
  const el = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const s = toPgText(v, '') ?? '';
    return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  };
  return `{${items.map(el).join(',')}}`;
}
