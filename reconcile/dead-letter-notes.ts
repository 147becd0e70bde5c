/**
 * A key missing in the stream that the streaming path dead-lettered is not a
 * mystery: the sample says so and where (`deadLetter: { id, stage, reason, at,
 * status }`). Only the bounded set of samples is looked up, in one query on the
 * (dataset, record_key) index; the verdict and counts do not change.
 *
 * `record_key` is the pipeline's key text (record-pipeline.ts keyText), or for a
 * record that could not be decoded the raw message key, which producers usually
 * send as compact JSON: both forms are tried.
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { Logger } from '../src/core/logger.ts';
import { keyText } from '../streaming/record-pipeline.ts';
import type { DifferenceSample } from './types.ts';

export interface DeadLetterNote { id: string; stage: string; reason: string; at: string; status: string }

export async function noteDeadLetters(pools: Pool[], dataset: string, key: readonly string[], samples: DifferenceSample[], log: Logger): Promise<void> {
  const missing = samples.filter((s) => s.kind === 'missing_in_stream');
  if (missing.length === 0) return;
  try {
    const pool = await deadLetterPool(pools);
    if (!pool) return;
    const idx: number[] = [];
    const texts: string[] = [];
    missing.forEach((s, i) => {
      for (const t of new Set([attempt(() => keyText(s.key, key)), attempt(() => JSON.stringify(s.key))])) if (t) { idx.push(i); texts.push(t); }
    });
    const r = await pool.query<{ i: number; id: string; stage: string; reason: string; at: Date; status: string }>(
      `SELECT DISTINCT ON (q.i) q.i, d.id::text AS id, d.stage, d.reason, d.at, d.status
         FROM unnest($2::int[], $3::text[]) AS q(i, k)
         JOIN dualrun.dead_letters d ON d.dataset = $1 AND d.record_key = q.k
        ORDER BY q.i, d.id DESC`, [dataset, idx, texts]);
    for (const row of r.rows) missing[row.i].deadLetter = { id: row.id, stage: row.stage, reason: row.reason, at: row.at.toISOString(), status: row.status };
  } catch (e) {
    // A note is a help, not evidence: without it the samples stay as they are.
    log.warn({ err: e, dataset }, 'could not look up dead letters for keys missing in the stream');
  }
}

/** A key form that cannot be built (e.g. a BigInt in JSON.stringify) is just not tried. */
function attempt(f: () => string | null): string | null {
  try { return f(); } catch { return null; }
}

/** Dead letters live beside the stream output (its database), else in the toolkit database. */
async function deadLetterPool(pools: Pool[]): Promise<Pool | null> {
  for (const pool of pools) {
    // dead_letter_actions comes with the status column (migration 1100).
    const r = await pool.query<{ t: string | null }>(`SELECT to_regclass('dualrun.dead_letter_actions')::text AS t`);
    if (r.rows[0].t) return pool;
  }
  return null;
}
