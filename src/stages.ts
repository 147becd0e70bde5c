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
  const r = await db.query<{ dataset: string; stage: Stage }>('SELECT dataset, stage FROM dualrun.stages WHERE dataset = ANY($1)', [datasets]);
  const m = new Map<string, Stage>(datasets.map((d) => [d, 'batch']));
  for (const row of r.rows) m.set(row.dataset, row.stage);
  return m;
}

export async function readStage(db: Pool | PoolClient, dataset: string): Promise<Stage> {
  return (await readStages(db, [dataset])).get(dataset)!;
}

/** Whether each path runs in a stage (DESIGN's stage table). */
export function pathsRunning(stage: Stage): { batch: boolean; stream: boolean } {
  return { batch: stage !== 'streaming-only', stream: stage !== 'batch' };
}
