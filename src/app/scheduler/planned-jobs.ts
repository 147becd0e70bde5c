/**
 * The jobs `dualrun schedule` runs, read from config: per dataset a batch job
 * (batch.schedule) and a reconcile job (reconcile.schedule), and one nightly
 * report (report.schedule). Job ids are stable (`batch:orders`) because fires are
 * recorded under them.
 */
import type { DualrunConfig } from '../../core/config/types.ts';

export type JobKind = 'batch' | 'reconcile' | 'report';

export interface ScheduledJob {
  readonly id: string;
  readonly kind: JobKind;
  /** null for the report, which spans every dataset. */
  readonly dataset: string | null;
  /** node-cron expression, 5 fields or 6 (with seconds). */
  readonly cron: string;
}

export interface JobPlan { jobs: ScheduledJob[]; notes: string[] }

export function plannedJobs(config: DualrunConfig): JobPlan {
  const jobs: ScheduledJob[] = [];
  const notes: string[] = [];
  for (const ds of Object.values(config.datasets)) {
    const b = ds.batch;
    if (b.schedule && !b.query && !b.completion) {
      notes.push(`datasets.${ds.name}.batch.schedule ignored: an adopted batch needs batch.completion for the scheduler to detect the external job finishing`);
    } else if (b.schedule) {
      jobs.push({ id: `batch:${ds.name}`, kind: 'batch', dataset: ds.name, cron: b.schedule });
    }
    if (ds.reconcile.schedule) jobs.push({ id: `reconcile:${ds.name}`, kind: 'reconcile', dataset: ds.name, cron: ds.reconcile.schedule });
  }
  if (config.report.schedule) jobs.push({ id: 'report', kind: 'report', dataset: null, cron: config.report.schedule });
  return { jobs, notes };
}
