/**
 * Refuses postgres:// URLs whose user-info would be mis-parsed. A password with an
 * unescaped `@`, `#`, `/`, `?` or `:` splits the URL in the wrong place, so parts of
 * the password end up as host, port or database name and are printed as such. The
 * message names the problem and the fix and never any part of the URL.
 */

const HOW_TO = 'percent-encode the user name and password (e.g. encodeURIComponent(password) in JavaScript, '
  + "python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=\"\"))' PASSWORD): "
  + '@ → %40, # → %23, / → %2F, ? → %3F, : → %3A, % → %25';

/** Why the URL cannot be trusted to mean what it says, or null when it is fine. */
export function connectionUrlProblem(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url.trim());
  if (!m) return null; // not URL-shaped (e.g. key=value): left to the driver
  const rest = m[2];
  // The authority ends at the first '/', '?' or '#'; an '@' after that point means the
  // user-info contains one of those characters unescaped.
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const after = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at < 0 && after.includes('@')) return `the user name or password contains an unescaped '/', '?' or '#'; ${HOW_TO}`;
  if (rest.includes('#')) return `the connection string contains '#' (a password character that must be escaped); ${HOW_TO}`;
  if (at < 0) return null;
  const userInfo = authority.slice(0, at);
  if (userInfo.includes('@')) return `the user name or password contains an unescaped '@'; ${HOW_TO}`;
  if ((userInfo.match(/:/g) ?? []).length > 1) return `the password contains an unescaped ':'; ${HOW_TO}`;
  if (/%(?![0-9a-f]{2})/i.test(userInfo)) return `the user name or password contains a '%' that is not a percent-escape; ${HOW_TO}`;
  return null;
}
