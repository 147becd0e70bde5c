/**
 * One reconnect-and-resume policy for every long-running command (stream, capture,
 * schedule). A unit of work runs as an attempt; when it fails because Postgres or
 * Kafka went away (restart, failover, outage, a consumer kafkajs gave up on), the
 * policy logs it, backs off (0.5 s doubling to 5 s) and starts a new attempt, which
 * resumes from what Postgres committed. Exactness comes from the work itself
 * (positions stored with the rows), not from the policy.
 *
 * Limits: a service that stays away longer than its `maxWait` (database.reconnect.maxWait,
 * kafka.reconnect.maxWait) ends the command with exit 3 naming the service. Before the
 * work ever connected, a connection failure is not retried here: a command that cannot
 * start says so at once (each connect has its own timeout). Failures that are not
 * connection loss (bugs, bad config, a query the database refuses) are rethrown as is.
 * A stop (the signal aborted) during an outage or its back-off is DUALRUN_INTERRUPTED
 * (src/core/stopped.ts), the lost connection as its cause: the worker's clean stop.
 */
import type { Logger } from 'pino';
import { isConnectionLoss } from './db/connect.ts';
import { DualrunError } from './errors.ts';
import { stoppedError } from './stopped.ts';
import type { Runtime } from './runtime.ts';
import { describeTarget } from './db/connect.ts';
import type { Service, WorkerHealth } from './worker-health.ts';

export interface ReconnectLimits {
  readonly postgresMaxWaitMs: number;
  readonly kafkaMaxWaitMs: number;
}

/** What the services are, for messages (never a password: describeTarget / broker list). */
export interface ServiceTargets {
  readonly postgres: string;
  readonly kafka: string | null;
}

/** Handed to each attempt: report that it connected, and that work moved. */
export interface AttemptSession {
  /** The attempt reached this service: from now on, losing it is retried. */
  connected(service: Service): void;
  /** Work moved (a batch committed, the head was reached): the outage, if any, is over. */
  progressed(): void;
  /** During an outage: ms left before the policy gives up (connect steps wait no longer); else Infinity. */
  budgetMs(): number;
}

export interface ReconnectPolicy {
  /** Runs `attempt` until it resolves, retrying connection loss within the limits. */
  run<T>(attempt: (s: AttemptSession) => Promise<T>, signal: AbortSignal): Promise<T>;
}

export interface ReconnectPolicyOptions {
  readonly what: string;
  readonly limits: ReconnectLimits;
  readonly targets: ServiceTargets;
  readonly log: Logger;
  readonly health?: WorkerHealth;
  /** Dataset named in health progress (default: `what`). */
  readonly dataset?: string;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Which service an error says is gone, or null when it is not connection loss. */
export function lostService(e: unknown): Service | null {
  for (let c = e, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof DualrunError) {
      if (c.exitCode === 2) return null; // config and usage errors: no retry fixes them
      if (c.code === 'DUALRUN_KAFKA_UNREACHABLE' || c.details.service === 'kafka') return 'kafka';
      if (c.code === 'DUALRUN_DB_UNREACHABLE' || c.details.service === 'postgres') return 'postgres';
    }
    const name = (c as { name?: string }).name ?? '';
    if (name.startsWith('KafkaJS')) return 'kafka';
  }
  if (isConnectionLoss(e)) return 'postgres';
  const sqlstate = (e as { code?: string })?.code ?? '';
  // Serialization failure or deadlock: the attempt is simply run again.
  if (sqlstate === '40001' || sqlstate === '40P01') return 'postgres';
  return null;
}

export function createReconnectPolicy(o: ReconnectPolicyOptions): ReconnectPolicy {
  const initial = o.initialBackoffMs ?? 500;
  const cap = o.maxBackoffMs ?? 5000;
  const everConnected = new Set<Service>();
  return {
    async run<T>(attempt: (s: AttemptSession) => Promise<T>, signal: AbortSignal): Promise<T> {
      let down: { service: Service; since: number } | null = null;
      let backoff = initial;
      const session: AttemptSession = {
        connected: (service) => { everConnected.add(service); },
        progressed: () => {
          everConnected.add('postgres').add('kafka');
          if (down) { o.log.warn({ what: o.what, service: down.service, outageMs: Date.now() - down.since }, `${serviceName(down.service)} is back: resumed`); o.health?.serviceUp(down.service); }
          down = null;
          backoff = initial;
          o.health?.progress(o.dataset ?? o.what);
        },
        budgetMs: () => {
          if (!down) return Number.POSITIVE_INFINITY;
          const limit = down.service === 'postgres' ? o.limits.postgresMaxWaitMs : o.limits.kafkaMaxWaitMs;
          return Math.max(1000, down.since + limit - Date.now());
        },
      };
      for (;;) {
        try {
          return await attempt(session);
        } catch (e) {
          const service = lostService(e);
          // Stopped during an outage: a stop (the worker exits as stopped), not the outage's failure.
          if (signal.aborted) throw service ? stoppedError(`${o.what}: reconnecting to ${serviceName(service)}`, signal, e) : e;
          if (!service && e instanceof DualrunError && e.details.restart === true) {
            o.log.info({ what: o.what, reason: e.message }, 'restarting');
            continue;
          }
          if (!service) throw e;
          if (!everConnected.has(service)) throw unreachable(o, service, e, null);
          const svc: Service = service;
          if (!down || down.service !== svc) down = { service: svc, since: Date.now() };
          const waited = Date.now() - down.since;
          const limit = svc === 'postgres' ? o.limits.postgresMaxWaitMs : o.limits.kafkaMaxWaitMs;
          if (waited >= limit) throw unreachable(o, svc, e, waited);
          const delay = Math.min(backoff, limit - waited);
          const message = (e as Error)?.message ?? String(e);
          o.health?.serviceDown(svc, targetOf(o, svc), message);
          o.log.warn({ what: o.what, service: svc, target: targetOf(o, svc), err: { message }, retryInMs: delay, downForMs: waited, limitMs: limit },
            `${serviceName(svc)} lost (${message}): reconnecting in ${delay} ms, resuming from the stored positions`);
          await sleep(delay, signal);
          if (signal.aborted) throw stoppedError(`${o.what}: reconnecting to ${serviceName(svc)}`, signal, e);
          backoff = Math.min(backoff * 2, cap);
        }
      }
    },
  };
}

function serviceName(s: Service): string {
  return s === 'postgres' ? 'Postgres' : 'Kafka';
}

function targetOf(o: ReconnectPolicyOptions, s: Service): string {
  return s === 'postgres' ? o.targets.postgres : `brokers ${o.targets.kafka ?? '(none configured)'}`;
}

function unreachable(o: ReconnectPolicyOptions, s: Service, cause: unknown, waitedMs: number | null): DualrunError {
  if (cause instanceof DualrunError && waitedMs === null && (cause.code === 'DUALRUN_DB_UNREACHABLE' || cause.code === 'DUALRUN_KAFKA_UNREACHABLE')) return cause;
  const reason = (cause as Error)?.message ?? String(cause);
  const key = s === 'postgres' ? 'database.reconnect.maxWait' : 'kafka.reconnect.maxWait';
  const how = waitedMs === null ? 'cannot reach' : `gave up after ${Math.round(waitedMs / 1000)} s without`;
  const message = `${o.what}: ${how} ${s === 'postgres' ? 'Postgres at' : 'Kafka'} ${targetOf(o, s)}${waitedMs === null ? '' : ` (limit ${key})`}: ${reason}`;
  o.health?.end('failed', message);
  return new DualrunError(s === 'postgres' ? 'DUALRUN_DB_UNREACHABLE' : 'DUALRUN_KAFKA_UNREACHABLE', message, { cause, details: { service: s, target: targetOf(o, s) } });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) { resolve(); return; }
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The policy for one unit of work of a command, with the limits and targets from its config. */
export function policyFor(rt: Runtime, what: string, dataset?: string): ReconnectPolicy {
  const c = rt.config;
  return createReconnectPolicy({
    what, dataset, log: rt.log, health: rt.health,
    limits: { postgresMaxWaitMs: c.database.reconnectMaxWaitMs, kafkaMaxWaitMs: c.kafka?.reconnectMaxWaitMs ?? 40_000 },
    targets: { postgres: c.database.url ? describeTarget(c.database.url) : 'the embedded Postgres', kafka: c.kafka ? c.kafka.brokers.join(', ') : null },
  });
}
