/**
 * The stream side's code, as run (rule 4.1, `stream-definition`, docs/cutover.md).
 * A dataset's definition says which stream transform, record schema and config are on
 * disk; what wrote a window's stream rows is the code (and stream config) the stream
 * worker started with, and a running worker keeps it. So each `dualrun stream` start (and each replay swapped
 * in) records the code it runs, and since which event time the stream output holds
 * only rows it wrote. A window counts only if its stream rows come from the code on
 * disk now: the newest start ran it, and the window starts at or after its coverage.
 */
import crypto from 'node:crypto';
import type { Pool, PoolClient } from '../db/connect.ts';
import type { DatasetConfig } from '../config/types.ts';
import { databaseIdentity, datasetDefinition } from './dataset-definition.ts';

/**
 * The stream code of a definition: what the stream worker executes, and the config it
 * was started with that decides what it writes (a running worker keeps both): the key it
 * upserts by, where it reads (stream.source: topic, format, table, capture mode), where
 * it writes (stream.output, which database).
 */
export function streamCode(ds: DatasetConfig): { readonly streamTransform: string; readonly streamSchema: string; readonly streamConfig: string } {
  const { parts } = datasetDefinition(ds);
  return { streamTransform: parts.streamTransform, streamSchema: parts.streamSchema, streamConfig: streamConfigHash(ds) };
}

function streamConfigHash(ds: DatasetConfig): string {
  const src = ds.stream.source;
  const source = !src ? null : src.kind === 'topic'
    ? { kind: src.kind, topic: src.topic, format: src.format }
    : { kind: src.kind, table: src.table.text, topic: src.topic, capture: src.capture };
  const shaping = { key: ds.key, source, output: ds.stream.output.text, database: databaseIdentity(ds.stream.database) };
  return crypto.createHash('sha256').update(JSON.stringify(shaping)).digest('hex');
}

/**
 * Whether a recorded start ran the stream code of now. Starts recorded before dualrun kept
 * the stream config have none: they ran the current one only if the dataset's config (the
 * definition's `config` part, which holds it) has not changed since before they started.
 */
function sameCode(p: Record<string, string>, startedAt: Date, now: ReturnType<typeof streamCode>, configSince: Date | null): boolean {
  if (p.streamTransform !== now.streamTransform || p.streamSchema !== now.streamSchema) return false;
  if (p.streamConfig !== undefined) return p.streamConfig === now.streamConfig;
  return configSince !== null && configSince <= startedAt;
}

export type StreamCoverage =
  /** No start recorded (an adopted stream, or none since dualrun kept them): not checked. */
  | { readonly state: 'none' }
  /** The newest start ran other code than is on disk now: the worker must restart. */
  | { readonly state: 'stale'; readonly startedAt: Date }
  /** The current code; the output holds only its rows for event times >= coversFrom (null: all). */
  | { readonly state: 'current'; readonly coversFrom: Date | null; readonly since: Date };

/**
 * Records a start of the stream worker (`replay: false`: rows from now on; appended only
 * when the code changed) or a replay swapped in (`coversFrom`: its start, null from the
 * beginning). The first start ever recorded covers the whole output: nothing says otherwise.
 */
export async function recordStreamStart(db: Pool | PoolClient, ds: DatasetConfig, opts: { replay: boolean; coversFrom?: Date | null }): Promise<void> {
  const parts = JSON.stringify(streamCode(ds));
  await db.query(
    `INSERT INTO dualrun.stream_starts (dataset, parts, covers_from, replay)
     SELECT $1, $2::jsonb,
            CASE WHEN $3 THEN $4::timestamptz WHEN EXISTS (SELECT 1 FROM dualrun.stream_starts WHERE dataset = $1) THEN clock_timestamp() ELSE NULL END, $3
     WHERE $3 OR (SELECT parts FROM dualrun.stream_starts WHERE dataset = $1 ORDER BY id DESC LIMIT 1) IS DISTINCT FROM $2::jsonb`,
    // A start covers from now by the database's clock, as the gate reads it (src/core/db/database-clock.ts).
    [ds.name, parts, opts.replay, opts.replay ? opts.coversFrom ?? null : null]);
}

/** Since when, and from which event time, the stream output holds only rows of the code on disk now. */
export async function streamCoverage(db: Pool | PoolClient, ds: DatasetConfig): Promise<StreamCoverage> {
  if (ds.stream.adopted) return { state: 'none' };
  const now = streamCode(ds);
  const r = await db.query<{ parts: Record<string, string>; covers_from: Date | null; started_at: Date }>(
    'SELECT parts, covers_from, started_at FROM dualrun.stream_starts WHERE dataset = $1 ORDER BY id DESC LIMIT 500', [ds.name]);
  if (r.rows.length === 0) return { state: 'none' };
  const configSince = await configUnchangedSince(db, ds);
  const same = (row: { parts: Record<string, string>; started_at: Date }) => sameCode(row.parts, row.started_at, now, configSince);
  if (!same(r.rows[0])) return { state: 'stale', startedAt: r.rows[0].started_at };
  let coversFrom: Date | null = r.rows[0].covers_from;
  let since = r.rows[0].started_at;
  for (const row of r.rows) {
    if (!same(row)) break;
    since = row.started_at;
    if (coversFrom !== null && (row.covers_from === null || row.covers_from < coversFrom)) coversFrom = row.covers_from;
  }
  return { state: 'current', coversFrom, since };
}

/** Since when the recorded definitions have had the dataset's config part of now (null: not recorded with it). */
async function configUnchangedSince(db: Pool | PoolClient, ds: DatasetConfig): Promise<Date | null> {
  const r = await db.query<{ since: Date | null }>(
    `SELECT min(seen_at) AS since FROM dualrun.dataset_definitions
      WHERE dataset = $1 AND id > coalesce((SELECT max(id) FROM dualrun.dataset_definitions WHERE dataset = $1 AND parts->>'config' IS DISTINCT FROM $2), 0)`,
    [ds.name, datasetDefinition(ds).parts.config]);
  return r.rows[0]?.since ?? null;
}
