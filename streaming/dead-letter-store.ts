/**
 * Reading and resolving dead letters (dualrun.dead_letters, in the dataset's
 * stream database). A selection is a filter evaluated in Postgres; ids and
 * positions stay text end to end so 64-bit values are exact.
 */
import type { Pool, PoolClient } from '../src/core/db/connect.ts';
import { DualrunError } from '../src/core/errors.ts';
import { parseExactJson } from '../src/core/exact-json.ts';
import { parseDuration } from '../src/core/duration.ts';
import { parseInstant } from '../src/core/parse-instant.ts';
import type { PipelineStage } from './change-event.ts';

export const DEAD_LETTER_STAGES = ['decode', 'validate', 'transform', 'apply'] as const;
export const DEAD_LETTER_STATUSES = ['open', 'retried', 'discarded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export interface DeadLetterFilter {
  readonly ids?: readonly string[];
  readonly stage?: PipelineStage;
  /** Case-insensitive substring of the reason. */
  readonly reason?: string;
  readonly since?: Date;
  readonly until?: Date;
  /** Default: open only. */
  readonly status?: DeadLetterStatus | 'all';
  readonly limit?: number;
}

export interface DeadLetterRecord {
  id: string;
  dataset: string;
  source: string;
  partition: number;
  position: string;
  recordKey: string | null;
  stage: PipelineStage;
  reason: string;
  at: string;
  status: DeadLetterStatus;
  retries: number;
  lastRetryAt: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}

export interface DeadLetterDetail extends DeadLetterRecord {
  /** The raw payload as UTF-8 text, or base64 when it is not valid UTF-8; null for a tombstone. */
  payload: string | null;
  payloadEncoding: 'utf8' | 'base64' | null;
  messageKey: string | null;
  recordTs: string | null;
  error: Record<string, unknown> | null;
  actions: { id: string; action: string; actor: string; reason: string | null; detail: unknown; at: string }[];
}

const COLUMNS = `id::text, dataset, source, partition, position::text, record_key, stage, reason, at, status, retries,
  last_retry_at, resolved_at, resolved_by, resolution`;

interface Row {
  id: string; dataset: string; source: string; partition: number; position: string; record_key: string | null; stage: PipelineStage;
  reason: string; at: Date; status: DeadLetterStatus; retries: number; last_retry_at: Date | null; resolved_at: Date | null;
  resolved_by: string | null; resolution: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function fromRow(r: Row): DeadLetterRecord {
  return {
    id: r.id, dataset: r.dataset, source: r.source, partition: r.partition, position: r.position, recordKey: r.record_key, stage: r.stage,
    reason: r.reason, at: r.at.toISOString(), status: r.status, retries: r.retries, lastRetryAt: iso(r.last_retry_at),
    resolvedAt: iso(r.resolved_at), resolvedBy: r.resolved_by, resolution: r.resolution,
  };
}

/** The WHERE clause of a selection ($1 is the dataset); parameters follow. */
export function filterSql(dataset: string, f: DeadLetterFilter): { where: string; values: unknown[] } {
  const values: unknown[] = [dataset];
  const parts = ['dataset = $1'];
  const add = (sql: (n: string) => string, v: unknown) => { values.push(v); parts.push(sql(`$${values.length}`)); };
  const status = f.status ?? 'open';
  if (status !== 'all') add((n) => `status = ${n}`, status);
  if (f.ids && f.ids.length > 0) add((n) => `id = ANY(${n}::bigint[])`, f.ids);
  if (f.stage) add((n) => `stage = ${n}`, f.stage);
  if (f.reason) add((n) => `strpos(lower(reason), lower(${n})) > 0`, f.reason);
  if (f.since) add((n) => `at >= ${n}`, f.since);
  if (f.until) add((n) => `at < ${n}`, f.until);
  return { where: parts.join(' AND '), values };
}

export async function listDeadLetters(db: Pool, dataset: string, f: DeadLetterFilter): Promise<{ total: number; letters: DeadLetterRecord[] }> {
  const { where, values } = filterSql(dataset, f);
  const limit = f.limit ?? 100;
  const [rows, total] = await Promise.all([
    db.query<Row>(`SELECT ${COLUMNS} FROM dualrun.dead_letters d WHERE ${where} ORDER BY d.id LIMIT ${limit}`, values),
    db.query<{ n: string }>(`SELECT count(*)::text AS n FROM dualrun.dead_letters WHERE ${where}`, values),
  ]);
  return { total: Number(total.rows[0].n), letters: rows.rows.map(fromRow) };
}

export async function showDeadLetter(db: Pool, dataset: string, id: string): Promise<DeadLetterDetail> {
  // jsonb as text, parsed exactly: pg's JSON.parse turned 12345678901234567890 into 12345678901234567000.
  const r = await db.query<Row & { payload: Buffer | null; message_key: Buffer | null; record_ts: Date | null; error: string | null }>(
    `SELECT ${COLUMNS}, payload, message_key, record_ts, error::text AS error FROM dualrun.dead_letters WHERE dataset = $1 AND id = $2::bigint`, [dataset, id]);
  const row = r.rows[0];
  if (!row) throw new DualrunError('DUALRUN_USAGE', `dataset ${dataset} has no dead letter with id ${id} (dualrun dead-letters list ${dataset} --status all)`);
  const actions = await db.query<{ id: string; action: string; actor: string; reason: string | null; detail: string | null; at: Date }>(
    'SELECT id::text, action, actor, reason, detail::text AS detail, at FROM dualrun.dead_letter_actions a WHERE dead_letter_id = $1::bigint AND dataset = $2 ORDER BY a.id', [id, dataset]);
  const payload = bytesAsText(row.payload);
  return {
    ...fromRow(row), payload: payload.text, payloadEncoding: payload.encoding, messageKey: bytesAsText(row.message_key).text,
    recordTs: iso(row.record_ts), error: exactJsonOrNull(row.error) as Record<string, unknown> | null,
    actions: actions.rows.map((a) => ({ ...a, detail: exactJsonOrNull(a.detail), at: a.at.toISOString() })),
  };
}

function exactJsonOrNull(text: string | null): unknown {
  return text === null ? null : parseExactJson(text);
}

function bytesAsText(b: Buffer | null): { text: string | null; encoding: 'utf8' | 'base64' | null } {
  if (b === null) return { text: null, encoding: null };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b), encoding: 'utf8' };
  } catch {
    return { text: b.toString('base64'), encoding: 'base64' };
  }
}

/**
 * `--id` names records: one that is not a dead letter of the dataset (a typo, another dataset's id)
 * is a usage error, as for `show`. Retry and discard selected nothing for it and exited 0.
 */
export async function assertDeadLettersExist(db: Pool, dataset: string, ids: readonly string[] | undefined): Promise<void> {
  if (!ids || ids.length === 0) return;
  const r = await db.query<{ id: string }>(
    `SELECT i::text AS id FROM pg_catalog.unnest($2::pg_catalog.int8[]) AS i
      WHERE NOT EXISTS (SELECT 1 FROM dualrun.dead_letters d WHERE d.dataset = $1 AND d.id = i) ORDER BY i`, [dataset, ids]);
  if (r.rows.length === 0) return;
  const missing = r.rows.map((x) => x.id);
  throw new DualrunError('DUALRUN_USAGE', `--id: dataset ${dataset} has no dead letter with id ${missing.join(', ')}; nothing was changed (dualrun dead-letters list ${dataset} --status all)`, { details: { dataset, ids: missing } });
}

export interface DiscardResult { discarded: string[] }

/** Marks the selected open dead letters discarded, each with an audit row, in one transaction. */
export async function discardDeadLetters(c: PoolClient, dataset: string, f: DeadLetterFilter, who: { actor: string; reason: string }): Promise<DiscardResult> {
  const { where, values } = filterSql(dataset, { ...f, status: 'open' });
  const n = values.length;
  const r = await c.query<{ id: string }>(
    `WITH chosen AS (SELECT id FROM dualrun.dead_letters WHERE ${where} ORDER BY id FOR UPDATE),
     done AS (
       UPDATE dualrun.dead_letters d SET status = 'discarded', resolved_at = now(), resolved_by = $${n + 1}, resolution = $${n + 2}
         FROM chosen WHERE d.id = chosen.id RETURNING d.id, d.stage, d.reason),
     audit AS (
       INSERT INTO dualrun.dead_letter_actions (dead_letter_id, dataset, action, actor, reason, detail)
       SELECT id, $1, 'discarded', $${n + 1}, $${n + 2}, jsonb_build_object('stage', stage, 'reason', reason) FROM done)
     SELECT id::text AS id FROM done ORDER BY done.id`,
    [...values, who.actor, who.reason]);
  return { discarded: r.rows.map((x) => x.id) };
}

/** `--since` / `--until`: an ISO date or time, or a duration ago (`24h`, `7d`). */
export function parseTimeOption(name: string, text: string | undefined, now = new Date()): Date | undefined {
  if (text === undefined) return undefined;
  const ago = parseDuration(text);
  if (ago !== null) return new Date(now.getTime() - ago);
  const t = parseInstant(text);
  if (t === null) throw new DualrunError('DUALRUN_USAGE', `${name}: ${JSON.stringify(text)} is neither a time (2026-11-20, 2026-11-20T08:00:00Z) nor a duration ago (24h, 7d)`);
  return t;
}
