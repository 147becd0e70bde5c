/**
 * `dualrun capture`: installs change capture on every selected `{ table }` dataset
 * (trigger + first snapshot, idempotent). Without Kafka that is all: the stream
 * worker reads `dualrun.changelog` directly, so the command returns. With Kafka it
 * then relays each table's changelog to the dataset's topic until stopped (or,
 * with --until-idle, until nothing is left to relay). `{ topic }` datasets are
 * captured by their own producer (e.g. Debezium) and are skipped.
 */
import { policyFor, type AttemptSession } from '../../src/core/reconnect-policy.ts';
import { isStopped } from '../../src/core/stopped.ts';
import { configMistake } from '../../src/core/config/config-mistake.ts';
import { caseHint } from '../../src/core/db/table-catalog.ts';
import type { Runtime } from '../../src/core/runtime.ts';
import { ADOPTED_NOTE } from '../../src/core/config/stream-source.ts';
import { createKafka } from '../kafka-client.ts';
import { installCapture, type CaptureInstall } from './capture-triggers.ts';
import { relayChangelog } from './kafka-relay.ts';
import { periodicPrune } from './periodic-prune.ts';
import { relayLogical } from './logical-kafka-relay.ts';
import { installLogicalCapture } from './logical-slot.ts';
import type { TableRef } from '../../src/core/identifiers.ts';
import type { Pool } from '../../src/core/db/connect.ts';

export interface CaptureResult {
  installed: (CaptureInstall & { slot?: string })[];
  skipped: { dataset: string; reason: string }[];
  relayed: Record<string, number>;
}

/**
 * `explicit`: the user named the datasets. Without that, a dataset whose source
 * table does not exist yet (e.g. `dualrun init`'s example next to a dataset made by
 * `dualrun add`) is skipped with its reason instead of failing the others.
 */
async function tableExists(db: Pool, table: TableRef): Promise<boolean> {
  return (await db.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [table.sql])).rows[0].oid !== null;
}

export async function runCapture(rt: Runtime, opts: { datasets: readonly string[]; untilIdle: boolean; explicit?: boolean }): Promise<CaptureResult> {
  const db = await rt.db();
  const result: CaptureResult = { installed: [], skipped: [], relayed: {} };
  const relays: { dataset: string; table: string; topic: string; key: readonly string[] }[] = [];
  const logical: { dataset: string; table: TableRef; topic: string; key: readonly string[] }[] = [];
  for (const name of opts.datasets) {
    // Stopped (SIGTERM/SIGINT): install nothing more; what is installed stays, and the relays stop at once.
    if (rt.signal.aborted) break;
    const ds = rt.dataset(name);
    const src = ds.stream.source;
    if (ds.stream.adopted || !src) { result.skipped.push({ dataset: name, reason: ADOPTED_NOTE }); continue; }
    if (src.kind !== 'table') { result.skipped.push({ dataset: name, reason: `source is topic ${src.topic}: produced outside dualrun` }); continue; }
    if (!(await tableExists(db, src.table))) {
      // Named with --dataset: a config mistake naming the file and field (it said only `stream.source.table X does not exist`).
      if (opts.explicit) throw configMistake(rt.config.path, [{ at: `datasets.${name}.stream.source.table`, message: `table ${src.table.text} does not exist in the toolkit database${await caseHint(db, src.table)}` }], { dataset: name });
      const reason = `source table ${src.table.text} does not exist (name the dataset with --dataset to make this an error)`;
      rt.log.warn({ dataset: name, table: src.table.text }, `${name}: skipped: ${reason}`);
      result.skipped.push({ dataset: name, reason });
      continue;
    }
    if (src.capture === 'logical') {
      const inst = await installLogicalCapture(db, name, src.table);
      rt.log.info({ dataset: name, ...inst }, inst.installed ? 'logical capture installed' : 'logical capture already installed');
      result.installed.push({ table: inst.table, installed: inst.installed, snapshotRows: inst.snapshotRows, slot: inst.slot });
      logical.push({ dataset: name, table: src.table, topic: src.topic, key: ds.key });
      continue;
    }
    const inst = await installCapture(db, src.table);
    rt.log.info({ dataset: name, ...inst }, inst.installed ? 'capture installed' : 'capture already installed');
    result.installed.push(inst);
    relays.push({ dataset: name, table: src.table.text, topic: src.topic, key: ds.key });
  }
  const kafkaCfg = rt.config.kafka;
  if (!kafkaCfg || relays.length + logical.length === 0) return result;
  const kafka = createKafka(kafkaCfg, rt.log);
  // Each relay runs under the reconnect policy: a lost broker or Postgres is retried
  // (the relay resumes from its stored position), up to the configured limits.
  // Stopped during an outage (the policy's DUALRUN_INTERRUPTED): a clean stop with nothing relayed by that attempt.
  const underPolicy = (dataset: string, fn: (session: AttemptSession) => Promise<{ relayed: number }>) => policyFor(rt, `capture relay ${dataset}`, dataset).run(fn, rt.signal)
    .catch((e: unknown) => { if (isStopped(e, rt.signal)) return { relayed: 0 }; throw e; });
  const done = await Promise.all([
    ...relays.map((r) => underPolicy(r.dataset, (session) => relayChangelog({
      kafka, db, ...r, log: rt.log, signal: rt.signal, untilIdle: opts.untilIdle, brokers: kafkaCfg.brokers, connectTimeoutMs: kafkaCfg.connectTimeoutMs, session,
      prune: periodicPrune(rt, r.table),
    }))),
    ...logical.map((r) => underPolicy(r.dataset, (session) => relayLogical({ kafka, db, ...r, log: rt.log, signal: rt.signal, untilIdle: opts.untilIdle, session }))),
  ]);
  [...relays, ...logical].forEach((r, i) => { result.relayed[r.dataset] = done[i].relayed; });
  return result;
}
