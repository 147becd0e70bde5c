/**
 * What a long-running command (stream, capture, schedule) says about itself, for
 * /healthz and alerts: healthy only while every service it uses answers and work
 * moves. Written by the reconnect policy and the progress watchdog; read by
 * `snapshot()` or by listening to the events.
 *
 * Events: 'change' (HealthSnapshot) on every state change; 'stalled' (StallReport)
 * when the watchdog finds no progress while records wait; 'down' / 'up'
 * ({ service, target }) when a service is lost / answers again.
 */
import { EventEmitter } from 'node:events';

export type Service = 'postgres' | 'kafka';
export type HealthState = 'starting' | 'healthy' | 'reconnecting' | 'stalled' | 'stopped' | 'failed';

export interface StallReport {
  readonly dataset: string;
  /** Milliseconds since the last progress. */
  readonly idleMs: number;
  /** Records waiting (lag) when the stall was noticed. */
  readonly lagRecords: number | null;
  readonly action: 'rejoin' | 'exit';
}

export interface HealthSnapshot {
  readonly state: HealthState;
  readonly healthy: boolean;
  /** When the current state began (ISO). */
  readonly since: string;
  readonly detail: string | null;
  /** Services currently lost, with what was tried. */
  readonly down: readonly { service: Service; target: string; since: string }[];
  /** Last progress per dataset (ISO). */
  readonly lastProgress: Readonly<Record<string, string>>;
}

export class WorkerHealth extends EventEmitter {
  private state: HealthState = 'starting';
  private since = new Date();
  private detail: string | null = null;
  private readonly lost = new Map<Service, { target: string; since: Date }>();
  private readonly progressAt = new Map<string, Date>();
  private readonly stalledDatasets = new Set<string>();

  /** Work moved for a dataset: clears a stall of that dataset. */
  progress(dataset: string): void {
    this.progressAt.set(dataset, new Date());
    if (this.stalledDatasets.delete(dataset) || this.state === 'starting') this.recompute(null);
  }

  serviceDown(service: Service, target: string, reason: string): void {
    if (!this.lost.has(service)) {
      this.lost.set(service, { target, since: new Date() });
      this.emit('down', { service, target });
    }
    this.recompute(reason);
  }

  serviceUp(service: Service): void {
    const was = this.lost.get(service);
    if (!was) return;
    this.lost.delete(service);
    this.emit('up', { service, target: was.target });
    this.recompute(null);
  }

  stalled(report: StallReport): void {
    this.stalledDatasets.add(report.dataset);
    this.emit('stalled', report);
    this.recompute(`${report.dataset}: no progress for ${Math.round(report.idleMs / 1000)} s with ${report.lagRecords ?? 'unknown'} records waiting`);
  }

  /** Final states: the command ended (stopped) or gave up (failed). */
  end(state: 'stopped' | 'failed', detail: string | null = null): void {
    this.set(state, detail);
  }

  snapshot(): HealthSnapshot {
    return {
      state: this.state,
      healthy: this.state === 'healthy',
      since: this.since.toISOString(),
      detail: this.detail,
      down: [...this.lost].map(([service, l]) => ({ service, target: l.target, since: l.since.toISOString() })),
      lastProgress: Object.fromEntries([...this.progressAt].map(([d, t]) => [d, t.toISOString()])),
    };
  }

  private recompute(detail: string | null): void {
    if (this.state === 'stopped' || this.state === 'failed') return;
    if (this.lost.size > 0) this.set('reconnecting', detail ?? this.detail);
    else if (this.stalledDatasets.size > 0) this.set('stalled', detail ?? this.detail);
    else this.set('healthy', null);
  }

  private set(state: HealthState, detail: string | null): void {
    if (state === this.state && detail === this.detail) return;
    if (state !== this.state) this.since = new Date();
    this.state = state;
    this.detail = detail;
    this.emit('change', this.snapshot());
  }
}
