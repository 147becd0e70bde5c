/** The compiled, frozen form of dualrun.yaml. Everything downstream trusts it. */
import type { TableRef } from '../identifiers.ts';
import type { AlertEventName } from '../alerts/alert-event.ts';

export type Grain = 'hour' | 'day';
export type StreamFormat = 'debezium' | 'json';

export interface DatabaseConfig {
  /** null: embedded Postgres. */
  readonly url: string | null;
  readonly poolSize: number;
  readonly embedded: { readonly dir: string; readonly port: number | null };
  /** Long-running commands reconnect for this long after losing Postgres, then exit 3. */
  readonly reconnectMaxWaitMs: number;
}

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly groupPrefix: string;
  readonly ssl: boolean;
  readonly sasl: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string } | null;
  /** Start-up: brokers unreachable for this long exit 3. */
  readonly connectTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** Progress watchdog: no progress while lag > 0 for this long → rejoin. */
  readonly stallTimeoutMs: number;
  /** Long-running commands reconnect for this long after losing the brokers, then exit 3. */
  readonly reconnectMaxWaitMs: number;
}

export type StreamSource =
  | { readonly kind: 'topic'; readonly topic: string; readonly format: StreamFormat }
  | {
    readonly kind: 'table'; readonly table: TableRef; readonly topic: string;
    /** `trigger`: AFTER ROW triggers write dualrun.changelog; `logical`: a replication slot (pgoutput), nothing on the table. */
    readonly capture: 'trigger' | 'logical';
    /** Logical capture: `dualrun datasets` warns when the slot holds back more WAL than this. */
    readonly maxRetainedWalBytes: number;
    /** Trigger capture: how long consumed changelog rows are kept (ms; 0 prunes them at once), or never pruned. */
    readonly changelogRetention: number | 'forever';
  };

/** How an adopted stream output shows it is settled. */
export type StreamWatermark =
  | { readonly kind: 'column'; readonly column: string }
  | { readonly kind: 'kafka'; readonly group: string; readonly topic: string };

/** Per-side SQL expressions standing in for one compared column (validated by Postgres before use). */
export interface ColumnExpressions { readonly batch?: string; readonly stream?: string }

export interface DatasetConfig {
  readonly name: string;
  readonly key: readonly string[];
  readonly window: { readonly column: string; readonly grain: Grain; readonly timezone: string } | null;
  readonly batch: {
    readonly output: TableRef;
    /** null: the toolkit database. */
    readonly database: string | null;
    /** Absolute path of the managed query file; null for an adopted job. */
    readonly query: string | null;
    readonly sourceUrl: string | null;
    readonly transform: string | null;
    readonly schedule: string | null;
    readonly completion: string | null;
  };
  readonly stream: {
    readonly output: TableRef;
    readonly database: string | null;
    /** null: an adopted stream output (written outside dualrun). */
    readonly source: StreamSource | null;
    /** An external pipeline writes stream.output: no stream worker, no capture. */
    readonly adopted: boolean;
    /** Adopted only: where settlement comes from; null: only --assume-settled judges. */
    readonly watermark: StreamWatermark | null;
    readonly transform: string | null;
    readonly schema: string | null;
    /** Alert and fail `--until-idle` above this share of dead letters among the last `window` records. */
    readonly maxDeadLetterRate: { readonly ratio: number; readonly window: number } | null;
  };
  readonly reconcile: {
    readonly columns: readonly string[] | null;
    readonly ignore: readonly string[];
    readonly tolerance: Readonly<Record<string, number>>;
    readonly settleMs: number;
    readonly schedule: string | null;
    readonly buckets: number | null;
    /** Renamed columns: batch name -> stream name. */
    readonly map: Readonly<Record<string, string>>;
    /** Compared column -> per-side SQL expression. */
    readonly expressions: Readonly<Record<string, ColumnExpressions>>;
  };
  readonly cutover: {
    readonly serve: TableRef | null;
    readonly promoteAfter: number;
    readonly retireAfter: number;
    readonly maxEvidenceAgeMs: number;
    /** Rows each side must hold for a window to be evidence (0: no minimum). */
    readonly minRowsPerWindow: number;
  };
}

export interface DualrunConfig {
  /** Absolute path of the file it came from; null for the built-in empty config. */
  readonly path: string | null;
  /** Folder relative paths are resolved against. */
  readonly baseDir: string;
  readonly database: DatabaseConfig;
  readonly kafka: KafkaConfig | null;
  readonly report: { readonly schedule: string | null; readonly dir: string; readonly history: number };
  /** Prometheus endpoint of the long-running commands; port null: off unless --metrics-port. */
  readonly metrics: { readonly port: number | null; readonly host: string };
  readonly alerts: { readonly webhooks: readonly { readonly url: string; readonly events: readonly AlertEventName[] }[] };
  readonly datasets: Readonly<Record<string, DatasetConfig>>;
}
