/**
 * Keeps connection strings and passwords out of logs, errors and reports. Known
 * secret values (passwords found in config) are registered once and replaced
 * wherever they appear; URL user-info passwords are masked by pattern, and `?password=`
 * in a connection URL is registered as a secret (src/core/db/url-password.ts).
 */
import { maskUrlSecrets, urlSecrets } from './db/url-password.ts';

const known = new Set<string>();

/** Registers a secret value (e.g. a password parsed from a connection string). */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 3) known.add(value);
}

// Greedy up to the last '@' of the word: a password with an unescaped '@', '/' or '#'
// is masked whole rather than in part.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):(\S*)@/gi;
const KV_PASSWORD = /\b(password|passwd|pwd)\s*=\s*('[^']*'|"[^"]*"|\S+)/gi;

export function scrubSecrets(text: string): string {
  let out = text.replace(URL_PASSWORD, '$1:***@').replace(KV_PASSWORD, '$1=***');
  for (const s of known) out = out.split(s).join('***');
  return out;
}

/** A connection string safe to print: password masked (user-info and `?password=`). */
export function redactUrl(url: string): string {
  try {
    for (const secret of urlSecrets(url)) registerSecret(secret);
    return maskUrlSecrets(url, '***');
  } catch {
    return scrubSecrets(url);
  }
}

/** Deep-copies a value with every string scrubbed (for log records). */
export function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: scrubSecrets(value.message), stack: value.stack && scrubSecrets(value.stack) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = /password|secret|token/i.test(k) ? '***' : scrubDeep(v, depth + 1);
  return out;
}
