/**
 * How big each trigger changelog is and what pruning took out, for `dualrun datasets`:
 * one query for all tables, the row count capped (an index-only range on
 * (source_table, id); beyond the cap it reads "at least").
 */
import type { Pool } from '../../src/core/db/connect.ts';

export const CHANGELOG_SIZE_CAP = 1_000_000;

export interface ChangelogSize {
  readonly table: string;
  /** Rows kept, up to CHANGELOG_SIZE_CAP (`rowsCapped`: at least that many). */
  readonly rows: number;
  readonly rowsCapped: boolean;
  readonly prunedRows: number;
  readonly lastPrunedAt: string | null;
}

export async function changelogSizes(db: Pool, tables: readonly string[]): Promise<Map<string, ChangelogSize>> {
  if (tables.length === 0) return new Map();
  const r = await db.query<{ t: string; n: number; pruned: string | null; at: Date | null }>(
    `SELECT t, (SELECT count(*)::int FROM (SELECT 1 FROM dualrun.changelog c WHERE c.source_table = t LIMIT ${CHANGELOG_SIZE_CAP + 1}) x) AS n,
            p.rows_pruned::text AS pruned, p.pruned_at AS at
       FROM unnest($1::text[]) t LEFT JOIN dualrun.changelog_pruned p ON p.source_table = t`, [[...new Set(tables)]]);
  return new Map(r.rows.map((x) => [x.t, {
    table: x.t, rows: Math.min(x.n, CHANGELOG_SIZE_CAP), rowsCapped: x.n > CHANGELOG_SIZE_CAP,
    prunedRows: Number(x.pruned ?? 0), lastPrunedAt: x.at ? x.at.toISOString() : null,
  }]));
}
