/**
 * Reading a dataset's cutover stage (datasets with no row are in `batch`).
 * Writers live with the cutover flags; the batch scheduler and the streaming
 * worker read through here so a stage change is picked up without a restart.
 */
import type { Pool, PoolClient } from './db/connect.ts';

export const STAGES = ['batch', 'shadow', 'streaming', 'streaming-only'] as const;
export type Stage = (typeof STAGES)[number];

export function stageIndex(s: Stage): number {
  return STAGES.indexOf(s);
}

export async function readStages(db: Pool | PoolClient, datasets: readonly string[]): Promise<Map<string, Stage>> {
  const rows = await readStageRows(db, datasets);
  return new Map([...rows].map(([d, row]) => [d, row.stage]));
}

export async function readStage(db: Pool | PoolClient, dataset: string): Promise<Stage> {
  return (await readStages(db, [dataset])).get(dataset)!;
}

/** Whether each path runs in a stage (DESIGN's stage table). */
export function pathsRunning(stage: Stage): { batch: boolean; stream: boolean } {
  return { batch: stage !== 'streaming-only', stream: stage !== 'batch' };
}

/** The stage row with what optimistic concurrency and the gates need. */
export interface StageRow {
  readonly dataset: string;
  readonly stage: Stage;
  /** 0 when the dataset has no row yet (it is in `batch`). */
  readonly version: number;
  /** When the current stage began; null for a dataset that never changed stage. */
  readonly since: Date | null;
}

export async function readStageRows(db: Pool | PoolClient, datasets: readonly string[]): Promise<Map<string, StageRow>> {
  const r = await db.query<{ dataset: string; stage: Stage; version: number; updated_at: Date }>(
    'SELECT dataset, stage, version, updated_at FROM dualrun.stages WHERE dataset = ANY($1)', [datasets]);
  const m = new Map<string, StageRow>(datasets.map((d) => [d, { dataset: d, stage: 'batch', version: 0, since: null }]));
  for (const row of r.rows) m.set(row.dataset, { dataset: row.dataset, stage: row.stage, version: row.version, since: row.updated_at });
  return m;
}

export async function readStageRow(db: Pool | PoolClient, dataset: string): Promise<StageRow> {
  return (await readStageRows(db, [dataset])).get(dataset)!;
}

export function isStage(s: string): s is Stage {
  return (STAGES as readonly string[]).includes(s);
}

/** The stage one step forward; null at `streaming-only`. */
export function nextStage(s: Stage): Stage | null {
  return STAGES[stageIndex(s) + 1] ?? null;
}

/** The stage one step back; null at `batch`. */
export function previousStage(s: Stage): Stage | null {
  return stageIndex(s) > 0 ? STAGES[stageIndex(s) - 1] : null;
}

/** Which output readers are served in a stage (DESIGN's stage table). */
export function servedSide(s: Stage): 'batch' | 'stream' {
  return s === 'batch' || s === 'shadow' ? 'batch' : 'stream';
}
