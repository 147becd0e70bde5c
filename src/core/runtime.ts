/**
 * What a command works with: the compiled config, a logger, a cancellation
 * signal (SIGINT/SIGTERM), and Postgres pools opened on first use. The toolkit
 * database is migrated on first use (idempotent, advisory-locked).
 */
import type { Logger } from 'pino';
import { DualrunError } from './errors.ts';
import { connectPool, type Pool } from './db/connect.ts';
import { acquireEmbeddedPostgres, type EmbeddedHandle } from './db/embedded-postgres.ts';
import { isCurrent, migrate } from './db/migrate.ts';
import { describeTarget } from './db/connect.ts';
import type { DatasetConfig, DualrunConfig } from './config/types.ts';
import { WorkerHealth } from './worker-health.ts';
import { createMetrics } from './metrics/prom-metrics.ts';
import type { Metrics } from './metrics/metrics.ts';
import { createAlerts, type Alerts } from './alerts/alerts.ts';

export interface Runtime {
  readonly config: DualrunConfig;
  readonly log: Logger;
  /** Aborted on SIGINT/SIGTERM: long work stops at a safe point. */
  readonly signal: AbortSignal;
  /** The toolkit database (schema `dualrun`), migrated. */
  db(): Promise<Pool>;
  /** A pool for a connection string; null means the toolkit database. */
  pool(url: string | null): Promise<Pool>;
  /** The connection string of the toolkit database (embedded one started if needed). */
  databaseUrl(): Promise<string>;
  dataset(name: string): DatasetConfig;
  /** Health of a long-running command (reconnects, stalls, progress): for /healthz and alerts. */
  readonly health: WorkerHealth;
  /** What the paths report (Prometheus series, stream progress); served with --metrics-port. */
  readonly metrics: Metrics;
  /** Webhook alerts from `alerts.webhooks`; emit never blocks. */
  readonly alerts: Alerts;
  /** Delivers pending alerts (bounded), then releases Postgres. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: DualrunConfig;
  log: Logger;
  signal?: AbortSignal;
  /** Skip auto-migration (the `migrate` command does it itself). */
  autoMigrate?: boolean;
  metrics?: Metrics;
}

export function createRuntime(opts: RuntimeOptions): Runtime {
  const { config, log } = opts;
  const pools = new Map<string, Promise<Pool>>();
  let embedded: Promise<EmbeddedHandle> | undefined;
  let migrated: Promise<void> | undefined;
  const metrics = opts.metrics ?? createMetrics();
  const alerts = createAlerts(config.alerts.webhooks, log, metrics);
  const signal = opts.signal ?? new AbortController().signal;

  const databaseUrl = async (): Promise<string> => {
    if (config.database.url) return config.database.url;
    embedded ??= acquireEmbeddedPostgres({ dir: config.database.embedded.dir, port: config.database.embedded.port });
    return (await embedded).url;
  };
  const pool = async (url: string | null): Promise<Pool> => {
    const target = url ?? (await databaseUrl());
    let p = pools.get(target);
    if (!p) {
      const role = url ? configuredAs(config, url) : config.database.url ? 'the toolkit Postgres (database.url)' : 'the embedded Postgres';
      p = connectPool(target, { max: config.database.poolSize, role });
      pools.set(target, p);
      p.then(() => log.debug({ target: describeTarget(target) }, 'connected'), () => pools.delete(target));
    }
    return p;
  };
  return {
    config,
    log,
    health: new WorkerHealth(),
    metrics,
    alerts,
    signal,
    databaseUrl,
    pool,
    async db() {
      const p = await pool(null);
      if (opts.autoMigrate !== false) {
        migrated ??= (async () => { if (!(await isCurrent(p))) await migrate(p); })();
        await migrated;
      }
      return p;
    },
    dataset(name: string) {
      const ds = config.datasets[name];
      if (!ds) {
        const known = Object.keys(config.datasets);
        throw new DualrunError('DUALRUN_DATASET_UNKNOWN', `unknown dataset ${JSON.stringify(name)} in ${config.path ?? 'config'} (known: ${known.join(', ') || 'none'})`);
      }
      return ds;
    },
    async close() {
      // After SIGTERM the command must end within seconds: a shorter wait for the queue.
      await alerts.flush(signal.aborted ? 1000 : 5000);
      const all = await Promise.allSettled([...pools.values()]);
      await Promise.allSettled(all.map((r) => (r.status === 'fulfilled' ? r.value.end() : undefined)));
      pools.clear();
      if (embedded) await (await embedded.catch(() => null))?.release();
    },
  };
}

/**
 * A dataset's own database named by the config keys that give its URL, e.g.
 * `Postgres (datasets.orders.batch.database)`: with many datasets, host and user alone
 * do not say which entry to fix.
 */
export function configuredAs(config: DualrunConfig, url: string): string {
  const keys: string[] = [];
  for (const ds of Object.values(config.datasets)) {
    if (ds.batch.database === url) keys.push(`datasets.${ds.name}.batch.database`);
    if (ds.batch.sourceUrl === url) keys.push(`datasets.${ds.name}.batch.source.url`);
    if (ds.stream.database === url) keys.push(`datasets.${ds.name}.stream.database`);
  }
  if (keys.length === 0) return 'Postgres';
  return `Postgres (${keys.length > 3 ? `${keys.slice(0, 3).join(', ')} and ${keys.length - 3} more` : keys.join(', ')})`;
}
