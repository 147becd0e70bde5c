/**
 * Text for a terminal from values dualrun did not write (record keys, dead-letter
 * reasons and payloads, database messages): control characters (C0, DEL, C1),
 * line and paragraph separators and bidi overrides are shown escaped (`\n`, `\x1b`,
 * `\u202e`), so a value cannot move the cursor, recolour or clear the screen, or
 * break a table row into several lines. JSON output is unaffected (JSON escapes).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** A plain aligned text table for terminal output (cells made printable). */
export function formatTable(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '-' : printable(String(c)))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
