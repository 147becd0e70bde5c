/**
 * The streaming path's side of the night, read where its state lives (the stream
 * database): dead letters (new in the period, still open, top reasons, retried
 * and discarded), and how far behind the stream is (watermark age, last applied
 * batch, records behind the head when the source is the built-in changelog).
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { sourceName } from '../streaming/replay.ts';

export interface DeadLetterFacts {
  /** Dead-lettered in the period. */
  newInPeriod: number;
  /** Open now (waiting for a retry or a discard). */
  open: number;
  retriedInPeriod: number;
  discardedInPeriod: number;
  /** Of the period's dead letters, the most common reasons. */
  topReasons: { stage: string; reason: string; count: number }[];
}

export interface StreamFacts {
  /** Newest event time every partition has applied. */
  watermark: string | null;
  /** generatedAt − watermark, seconds. */
  watermarkAgeSeconds: number | null;
  lastAppliedAt: string | null;
  /** Changelog records not applied yet (at most LAG_CAP); null when unknown (Kafka, logical capture: see the dualrun_stream_lag_records metric). */
  lagRecords: number | null;
  partitions: number;
}

/** Counting records behind stops here (the report says "at least"). */
export const LAG_CAP = 100_000;

const EMPTY_DL: DeadLetterFacts = { newInPeriod: 0, open: 0, retriedInPeriod: 0, discardedInPeriod: 0, topReasons: [] };

export async function streamSide(rt: Runtime, ds: DatasetConfig, from: Date, to: Date, now: Date): Promise<{ deadLetters: DeadLetterFacts; stream: StreamFacts }> {
  const db = await rt.pool(ds.stream.database);
  const has = await db.query<{ t: string | null }>(`SELECT to_regclass('dualrun.dead_letter_actions')::text AS t`);
  if (!has.rows[0].t) return { deadLetters: EMPTY_DL, stream: NO_STREAM_FACTS };
  const [deadLetters, stream] = await Promise.all([deadLetterFacts(db, ds.name, from, to), streamFacts(rt, db, ds, now)]);
  return { deadLetters, stream };
}

async function deadLetterFacts(db: Pool, dataset: string, from: Date, to: Date): Promise<DeadLetterFacts> {
  const [counts, reasons] = await Promise.all([
    db.query<{ new_n: string; open_n: string; retried_n: string; discarded_n: string }>(
      `SELECT (SELECT count(*) FROM dualrun.dead_letters WHERE dataset = $1 AND at >= $2 AND at < $3)::text AS new_n,
              (SELECT count(*) FROM dualrun.dead_letters WHERE dataset = $1 AND status = 'open')::text AS open_n,
              (SELECT count(*) FROM dualrun.dead_letter_actions WHERE dataset = $1 AND action = 'retried' AND at >= $2 AND at < $3)::text AS retried_n,
              (SELECT count(*) FROM dualrun.dead_letter_actions WHERE dataset = $1 AND action = 'discarded' AND at >= $2 AND at < $3)::text AS discarded_n`,
      [dataset, from, to]),
    db.query<{ stage: string; reason: string; n: string }>(
      `SELECT stage, reason, count(*)::text AS n FROM dualrun.dead_letters WHERE dataset = $1 AND at >= $2 AND at < $3
        GROUP BY stage, reason ORDER BY count(*) DESC, stage, reason LIMIT 5`, [dataset, from, to]),
  ]);
  const c = counts.rows[0];
  return {
    newInPeriod: Number(c.new_n), open: Number(c.open_n), retriedInPeriod: Number(c.retried_n), discardedInPeriod: Number(c.discarded_n),
    topReasons: reasons.rows.map((r) => ({ stage: r.stage, reason: r.reason, count: Number(r.n) })),
  };
}

const NO_STREAM_FACTS: StreamFacts = { watermark: null, watermarkAgeSeconds: null, lastAppliedAt: null, lagRecords: null, partitions: 0 };

async function streamFacts(rt: Runtime, db: Pool, ds: DatasetConfig, now: Date): Promise<StreamFacts> {
  // An adopted stream output is written outside dualrun: no positions or watermark of ours to report.
  if (ds.stream.adopted || !ds.stream.source) return NO_STREAM_FACTS;
  const source = sourceName(rt, ds);
  const r = await db.query<{ watermark: Date | null; last: Date | null; parts: number; lag: string | null }>(
    `SELECT (SELECT event_time FROM dualrun.watermarks WHERE dataset = $1) AS watermark,
            (SELECT max(updated_at) FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2) AS last,
            (SELECT count(*)::int FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2) AS parts,
            CASE WHEN $3::text IS NULL THEN NULL ELSE (
              SELECT count(*)::text FROM (
                SELECT 1 FROM dualrun.changelog c
                 WHERE c.source_table = $3 AND (c.tx_id, c.id) > (
                   coalesce((SELECT p.position FROM dualrun.stream_positions p WHERE p.dataset = $1 AND p.source = $2 AND p.partition = 0), -1),
                   coalesce((SELECT p.sub_position FROM dualrun.stream_positions p WHERE p.dataset = $1 AND p.source = $2 AND p.partition = 0), 0))
                 LIMIT ${LAG_CAP}) behind) END AS lag`,
    [ds.name, source, source.startsWith('changelog:') ? source.slice('changelog:'.length) : null]);
  const row = r.rows[0];
  return {
    watermark: row.watermark?.toISOString() ?? null,
    watermarkAgeSeconds: row.watermark ? Math.max(0, Math.round((now.getTime() - row.watermark.getTime()) / 1000)) : null,
    lastAppliedAt: row.last?.toISOString() ?? null,
    lagRecords: row.lag === null ? null : Number(row.lag),
    partitions: row.parts,
  };
}
