/**
 * Where a postgres:// URL keeps its secrets. Besides the user-info password
 * (`postgres://u:PW@h/db`), node-postgres and libpq also read `?password=PW` and
 * `?sslpassword=PW` (the client key's passphrase) from the query string, and connect
 * with them; masking only the user-info printed such a password in full.
 */

/** Query parameters of a connection URL whose values are secrets. */
const SECRET_PARAMS = ['password', 'sslpassword'] as const;

/** Every secret a connection URL holds (decoded), for the scrubber; [] when it is not a URL. */
export function urlSecrets(url: string): string[] {
  let u: URL;
  try { u = new URL(url); } catch { return []; }
  const found = u.password ? [safeDecode(u.password)] : [];
  for (const p of SECRET_PARAMS) for (const v of u.searchParams.getAll(p)) if (v) found.push(v, encodeURIComponent(v));
  return found;
}

/**
 * The URL with each secret replaced by `mask`; an empty mask empties the user-info
 * password and drops the secret query parameters. The other parameters are kept byte
 * for byte: libpq does not read `+` as a space, so re-encoding them could change them.
 */
export function maskUrlSecrets(url: string, mask: string, params: readonly string[] = SECRET_PARAMS): string {
  const q = url.indexOf('?');
  const head = q < 0 ? url : url.slice(0, q);
  const u = new URL(head);
  if (u.password) u.password = mask;
  const out = u.toString();
  if (q < 0) return out;
  const kept = url.slice(q + 1).split('&').flatMap((pair) => {
    const name = safeDecode(pair.split('=')[0]);
    if (!params.includes(name)) return [pair];
    return mask ? [`${pair.split('=')[0]}=${mask}`] : [];
  });
  return kept.length ? `${out}?${kept.join('&')}` : out;
}

/** The password a client logs in with: the user-info one, else `?password=`; '' when none. */
export function loginPassword(url: string): string {
  const u = new URL(url);
  return u.password ? safeDecode(u.password) : u.searchParams.get('password') ?? '';
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
