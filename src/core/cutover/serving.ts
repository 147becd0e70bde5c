/**
 * The typed API for applications: which stage a dataset is in and which table
 * serves its readers. Applications that cannot use the serving view (an output
 * in another database, or no `cutover.serve`) read from `table` in `database`.
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { DatasetConfig } from '../config/types.ts';
import type { TableRef } from '../identifiers.ts';
import type { Runtime } from '../runtime.ts';
import { readStageRows, type Stage } from '../stages.ts';
import { servingTarget } from './serving-view.ts';

export interface Serving {
  readonly dataset: string;
  readonly stage: Stage;
  /** Stage-row version (0: never changed). */
  readonly version: number;
  /** When the current stage began (null: never changed). */
  readonly since: Date | null;
  /** Which output serves readers in this stage. */
  readonly side: 'batch' | 'stream';
  /** That output table (`table.sql` is quoted, ready for SQL). */
  readonly table: TableRef;
  /** Connection string of the database holding `table`; null: the toolkit database. */
  readonly database: string | null;
  /** The serving view readers can query instead (null: none configured). */
  readonly view: TableRef | null;
}

export async function servingOf(db: Pool | PoolClient, datasets: readonly DatasetConfig[]): Promise<Serving[]> {
  const rows = await readStageRows(db, datasets.map((d) => d.name));
  return datasets.map((ds) => {
    const row = rows.get(ds.name)!;
    const t = servingTarget(ds, row.stage);
    return { dataset: ds.name, stage: row.stage, version: row.version, since: row.since, side: t.side, table: t.table, database: t.database, view: ds.cutover.serve };
  });
}

/** A dataset's stage and serving table, read fresh from the toolkit database. */
export async function readServing(rt: Runtime, dataset: string): Promise<Serving> {
  const ds = rt.dataset(dataset);
  return (await servingOf(await rt.db(), [ds]))[0];
}
