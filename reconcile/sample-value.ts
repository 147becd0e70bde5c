/**
 * A compared value as the drill-down hands it to Node: whole up to SAMPLE_VALUE_MAX bytes, else
 * its first 1024 characters, its length and a SHA-256 of the whole. Drill-down values are held
 * in Node, printed in samples and stored in one jsonb document (dualrun.reconciliations.result,
 * at most 256 MB): five differing rows of a 29 MB text column made the verdict `error` ("storing
 * the result failed: total size of jsonb array elements exceeds the maximum") after Node held
 * over 2 GB. Two long values are then equal exactly when their starts, lengths and digests are
 * (128 bits: as sure as the 64-bit row hash that found the key). The keyed drill-down decides
 * which columns differ on the whole values, in SQL. Only drill-down rows pay for this, never the
 * fingerprint scan; `octet_length` reads a long value's size without detoasting it. The marker is
 * ASCII: a LATIN1 database cannot hold an ellipsis character.
 */
export const SAMPLE_VALUE_MAX = 4096;

export function sampleValueSql(text: string): string {
  const digest = `left(encode(sha256(convert_to(${text}, 'UTF8')), 'hex'), 32)`;
  return `CASE WHEN octet_length(${text}) > ${SAMPLE_VALUE_MAX} THEN left(${text}, 1024) || '... (' || length(${text}) || ' characters, sha256 ' || ${digest} || ')' ELSE ${text} END`;
}
