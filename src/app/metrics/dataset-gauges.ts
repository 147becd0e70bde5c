/**
 * Series read from Postgres at scrape time, so they are true whichever process
 * changed them (a promotion from the CLI, a reconciliation by the scheduler):
 * stage, last verdict, the gate's clean streak, watermark age, and per-partition
 * lag in seconds (now minus the partition's event time). One read per scrape,
 * shared by the gauges (prom-client collects them concurrently).
 */
import type * as Prom from 'prom-client';
import type { Runtime } from '../../core/runtime.ts';
import type { DatasetConfig } from '../../core/config/types.ts';
import { readStageRows, STAGES } from '../../core/stages.ts';
import { gateForNextStep } from '../../core/cutover/evidence.ts';
import { changelogSourceName } from '../../../streaming/changelog-transport.ts';
import { logicalSourceName } from '../../../streaming/logical-transport.ts';

const VERDICTS = ['match', 'mismatch', 'pending'] as const;

type Sample = [Record<string, string>, number];
interface State { ok: boolean; series: Record<string, Sample[]> }

const SERIES: [name: string, help: string, labels: string[]][] = [
  ['dualrun_dataset_stage', 'Cutover stage of the dataset: 1 for the current stage, 0 for the others.', ['dataset', 'stage']],
  ['dualrun_reconcile_last_verdict', 'Newest reconciliation verdict of the dataset: 1 for that verdict, 0 for the others.', ['dataset', 'verdict']],
  ['dualrun_reconcile_last_timestamp_seconds', 'When the newest reconciliation of the dataset finished (Unix time).', ['dataset']],
  ['dualrun_cutover_clean_streak', 'Consecutive clean (match) windows the gate counts towards the next promotion.', ['dataset']],
  ['dualrun_cutover_clean_required', 'Clean windows the gate requires for the next promotion (promoteAfter or retireAfter).', ['dataset']],
  ['dualrun_stream_watermark_age_seconds', 'Now minus the dataset\'s stream watermark (dualrun.watermarks.event_time).', ['dataset']],
  ['dualrun_stream_lag_seconds', 'Now minus the partition\'s event time: the newest source time applied, or when it was last seen caught up.', ['dataset', 'partition']],
];

export function registerDatasetGauges(prom: typeof Prom, registry: Prom.Registry, rt: Runtime): void {
  // prom-client calls every collect() in the same tick of a scrape: they share one read,
  // and the next scrape reads afresh.
  let current: Promise<State> | null = null;
  const state = (): Promise<State> => {
    if (!current) { current = readState(rt); setImmediate(() => { current = null; }); }
    return current;
  };
  for (const [name, help, labelNames] of SERIES) {
    new prom.Gauge({
      name, help, labelNames, registers: [registry],
      async collect() {
        const s = await state();
        this.reset();
        for (const [labels, v] of s.series[name] ?? []) this.set(labels, v);
      },
    });
  }
  new prom.Gauge({
    name: 'dualrun_dataset_state_scrape_ok', help: '1 when the dataset series could be read from Postgres at this scrape.', registers: [registry],
    async collect() { this.set((await state()).ok ? 1 : 0); },
  });
}

async function readState(rt: Runtime): Promise<State> {
  const series: Record<string, Sample[]> = {};
  const add = (name: string, labels: Record<string, string>, v: number) => { (series[name] ??= []).push([labels, v]); };
  try {
    await collectAll(rt, add);
    return { ok: true, series };
  } catch (e) {
    rt.log.debug({ err: e }, 'metrics: reading dataset state failed');
    return { ok: false, series };
  }
}

type Add = (name: string, labels: Record<string, string>, v: number) => void;

async function collectAll(rt: Runtime, add: Add): Promise<void> {
  const datasets = Object.values(rt.config.datasets);
  if (datasets.length === 0) return;
  const db = await rt.db();
  const names = datasets.map((d) => d.name);
  const [rows, verdicts] = await Promise.all([
    readStageRows(db, names),
    db.query<{ dataset: string; verdict: string; at: number }>(
      `SELECT DISTINCT ON (dataset) dataset, verdict, extract(epoch FROM finished_at)::float8 AS at
         FROM dualrun.reconciliations WHERE dataset = ANY($1) ORDER BY dataset, finished_at DESC, id DESC`, [names]),
  ]);
  for (const v of verdicts.rows) {
    for (const x of VERDICTS) add('dualrun_reconcile_last_verdict', { dataset: v.dataset, verdict: x }, v.verdict === x ? 1 : 0);
    add('dualrun_reconcile_last_timestamp_seconds', { dataset: v.dataset }, v.at);
  }
  for (const ds of datasets) {
    const row = rows.get(ds.name)!;
    for (const s of STAGES) add('dualrun_dataset_stage', { dataset: ds.name, stage: s }, row.stage === s ? 1 : 0);
    const gate = await gateForNextStep(db, ds, row);
    if (gate) {
      add('dualrun_cutover_clean_streak', { dataset: ds.name }, gate.clean);
      add('dualrun_cutover_clean_required', { dataset: ds.name }, gate.required);
    }
    // A stream database not migrated yet has no streaming state: no series, not a failed scrape.
    await collectStream(rt, ds, add).catch((e) => rt.log.debug({ err: e, dataset: ds.name }, 'metrics: reading stream state failed'));
  }
}

async function collectStream(rt: Runtime, ds: DatasetConfig, add: Add): Promise<void> {
  const db = ds.stream.database ? await rt.pool(ds.stream.database) : await rt.db();
  const src = ds.stream.source;
  // An adopted stream output has no dualrun positions: only the watermark query below could apply, and it finds none.
  if (!src) return;
  const source = rt.config.kafka || src.kind === 'topic' ? src.topic
    : src.capture === 'logical' ? logicalSourceName(src.table.text) : changelogSourceName(src.table.text);
  const [wm, parts] = await Promise.all([
    db.query<{ age: number | null }>('SELECT extract(epoch FROM now() - event_time)::float8 AS age FROM dualrun.watermarks WHERE dataset = $1', [ds.name]),
    db.query<{ partition: number; age: number | null }>(
      'SELECT partition, extract(epoch FROM now() - event_time)::float8 AS age FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2', [ds.name, source]),
  ]);
  const age = wm.rows[0]?.age;
  if (age !== undefined && age !== null) add('dualrun_stream_watermark_age_seconds', { dataset: ds.name }, Math.max(0, age));
  for (const p of parts.rows) if (p.age !== null) add('dualrun_stream_lag_seconds', { dataset: ds.name, partition: String(p.partition) }, Math.max(0, p.age));
}
