/**
 * "Did you mean": the existing name closest to one that is not there. Names are used exactly as
 * written (identifiers are quoted, so case counts): a name that differs only in case is the answer
 * whatever the distance, and then the hint says case matters. Otherwise the closest by edit
 * distance (transpositions count one), when close enough to be a likely typo.
 */
export interface NearestName { name: string; caseOnly: boolean }

export function nearestName(wanted: string, names: Iterable<string>): NearestName | null {
  const all = [...new Set(names)];
  const sameLetters = all.find((n) => n.toLowerCase() === wanted.toLowerCase());
  if (sameLetters !== undefined) return { name: sameLetters, caseOnly: true };
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const n of all) {
    const d = editDistance(wanted.toLowerCase(), n.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== null && n < best)) { best = n; bestDistance = d; }
  }
  // About one edit in three characters: `amont`→`amount`, `loadedat`→`loaded_at`, not `id`→`v`.
  const limit = Math.max(1, Math.floor(Math.max(wanted.length, 3) / 3));
  return best !== null && bestDistance <= limit ? { name: best, caseOnly: false } : null;
}

/** The hint to append to an unknown-name message: ` (did you mean loaded_at?)`, or '' when nothing is close. */
export function didYouMean(wanted: string, names: Iterable<string>): string {
  const n = nearestName(wanted, names);
  if (!n) return '';
  return n.caseOnly
    ? ` (did you mean ${n.name}? names are case-sensitive, used exactly as written in the config)`
    : ` (did you mean ${n.name}?)`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
