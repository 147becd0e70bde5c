/**
 * One record sequence through both sink paths into two fresh tables of one definition on
 * real Postgres: batch by batch (`applyBatch`, the head of the log) and collected in one
 * transaction (`CollectingSink`, a backlog), cut into the same batches. The two outputs
 * (as text) and dead letters are returned, for tests that the same records end the same
 * way on both.
 */
import { parseTableRef } from '../../src/core/identifiers.ts';
import type { Pool } from '../../src/core/db/connect.ts';
import { CollectingSink, COLLECTING_DEFAULTS } from '../../streaming/collecting-sink.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import type { BatchContext, SourceRecord } from '../../streaming/transport.ts';

export interface PathOutcome { rows: string[]; dead: { p: number; stage: string; reason: string }[] }

let tables = 0;

/** Records from JSON values (null: a Kafka tombstone) at offsets 0, 1, …; `keys`: message keys. */
export function recordsOf(values: readonly (string | null)[], keys: readonly (string | null)[] = []): SourceRecord[] {
  return values.map((v, i) => ({
    position: { major: BigInt(i), minor: 0n }, key: keys[i] == null ? null : Buffer.from(keys[i]!), value: v === null ? null : Buffer.from(v),
    timestamp: new Date(1_790_000_000_000), fallbackVersion: BigInt(i),
  }));
}

/** `cuts`: batch boundaries (offsets where a new batch starts). Rows as jsonb text (without `_dr_source_ts`), by key. */
export async function throughBothPaths(db: Pool, sinkPool: Pool, ddl: string, key: string[], records: SourceRecord[],
  o: { format?: 'json' | 'debezium'; cuts?: number[] } = {}): Promise<{ batch: PathOutcome; collect: PathOutcome }> {
  return { batch: await throughOnePath(db, sinkPool, ddl, key, records, 'batch', o), collect: await throughOnePath(db, sinkPool, ddl, key, records, 'collect', o) };
}

/** One of the two paths; outputs with array or composite columns are applied batch by batch only (as a worker does). */
export async function throughOnePath(db: Pool, sinkPool: Pool, ddl: string, key: string[], records: SourceRecord[], path: 'batch' | 'collect',
  o: { format?: 'json' | 'debezium'; cuts?: number[] } = {}): Promise<PathOutcome> {
  const bounds = [...new Set([0, ...(o.cuts ?? []).filter((c) => c > 0 && c < records.length), records.length])].sort((a, b) => a - b);
  const batches = bounds.slice(0, -1).map((from, i) => records.slice(from, bounds[i + 1]));
  const name = `public.both_${++tables}_${path}`;
  await db.query(`CREATE TABLE ${name} (${ddl})`);
  const out = await prepareOutputTable(db, parseTableRef(name)!, key);
  const deps: SinkDeps = {
    db, dataset: `both_${tables}_${path}`, key, source: 'both', merge: mergeStatements(out), committed: new Map(),
    decode: o.format === 'debezium' ? decodeDebezium : decodePlainJson, validate: () => null,
    transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
  if (path === 'batch') {
    for (const records of batches) await applyBatch(deps, { partition: 0, records, headSeenAt: null, lagRecords: 1 });
  } else {
    // As the transport does: after a refused value the partition comes again from the stored position.
    let failure: unknown = null;
    let again = false;
    const ctx: BatchContext = { acknowledge: () => undefined, redeliver: () => { again = true; }, fail: (e) => { failure ??= e; } };
    const sink = new CollectingSink(deps, { ...COLLECTING_DEFAULTS, pool: sinkPool, onCommitted: () => undefined });
    for (let from = 0n, round = 0; ; round++) {
      if (round > 50) throw new Error('still delivering after 50 rounds');
      let rewound = false;
      for (const [i, all] of batches.entries()) {
        const records = all.filter((r) => r.position.major >= from);
        if (records.length === 0) continue;
        const last = i === batches.length - 1;
        const ack = await sink.handle({ partition: 0, records, headSeenAt: last ? new Date() : null, lagRecords: last ? 0 : 1 }, ctx);
        if (ack.rewind || again) { rewound = true; break; }
      }
      await sink.settled();
      if (!rewound && !again) break;
      again = false;
      const stored = await db.query<{ p: string }>(`SELECT position::text AS p FROM dualrun.stream_positions WHERE dataset = $1 AND partition = 0`, [deps.dataset]);
      from = stored.rows[0] ? BigInt(stored.rows[0].p) + 1n : 0n;
    }
    await sink.close(true);
    if (failure) throw failure;
  }
  const rows = (await db.query<{ r: string }>(`SELECT (to_jsonb(x) - '_dr_source_ts')::text AS r FROM ${name} x ORDER BY ${key.map((k) => `x.${k}`).join(', ')}`)).rows.map((r) => r.r);
  const dead = (await db.query(`SELECT position::int AS p, stage, reason FROM dualrun.dead_letters WHERE dataset = $1 ORDER BY position`, [deps.dataset])).rows;
  return { rows, dead };
}
