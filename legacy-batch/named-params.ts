/**
 * Rewrites `:window_start` / `:window_end` in a user's SQL into `$1` / `$2` so the
 * window is bound as a parameter, never spliced in as text. String literals
 * ('…', E'…', $tag$…$tag$), quoted identifiers and comments are skipped, and
 * `::type` casts are left alone, so `:window_start::date` becomes `$1::date`.
 */

export interface NamedParamsResult {
  /** The SQL with `$n` placeholders. */
  readonly text: string;
  /** Parameter names in `$n` order (a name used twice shares one number). */
  readonly names: readonly string[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_$]/;

/** Rewrites `:name` for the given names; other `:x` text (array slices, casts) is kept. */
export function rewriteNamedParams(sql: string, known: readonly string[]): NamedParamsResult {
  const names: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const skip = skipLiteralOrComment(sql, i);
    if (skip > i) { out += sql.slice(i, skip); i = skip; continue; }
    const ch = sql[i];
    if (ch === ':' && sql[i + 1] === ':') { out += '::'; i += 2; continue; }
    if (ch === ':' && NAME_START.test(sql[i + 1] ?? '') && !NAME_CHAR.test(sql[i - 1] ?? ' ')) {
      let j = i + 1;
      while (j < sql.length && NAME_CHAR.test(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      if (known.includes(name)) {
        let n = names.indexOf(name);
        if (n < 0) n = names.push(name) - 1;
        out += `$${n + 1}`;
        i = j;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return { text: out, names };
}

/** Returns the index just past a literal, quoted identifier or comment starting at i (or i). */
function skipLiteralOrComment(sql: string, i: number): number {
  const ch = sql[i];
  if (ch === '-' && sql[i + 1] === '-') {
    const nl = sql.indexOf('\n', i);
    return nl < 0 ? sql.length : nl;
  }
  if (ch === '/' && sql[i + 1] === '*') return skipBlockComment(sql, i);
  if (ch === "'") {
    // E'…' allows backslash escapes; a plain '…' only doubles quotes.
    const escapes = /[eE]/.test(sql[i - 1] ?? '') && !NAME_CHAR.test(sql[i - 2] ?? ' ');
    return skipQuoted(sql, i, "'", escapes);
  }
  if (ch === '"') return skipQuoted(sql, i, '"', false);
  if (ch === '$' && !NAME_CHAR.test(sql[i - 1] ?? ' ')) {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? sql.length : end + tag[0].length;
    }
  }
  return i;
}

function skipQuoted(sql: string, i: number, quote: string, backslash: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    if (backslash && sql[j] === '\\') { j += 2; continue; }
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) { j += 2; continue; }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

// Postgres block comments nest.
function skipBlockComment(sql: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') { depth++; j += 2; continue; }
    if (sql[j] === '*' && sql[j + 1] === '/') { depth--; j += 2; if (depth === 0) return j; continue; }
    j++;
  }
  return sql.length;
}
