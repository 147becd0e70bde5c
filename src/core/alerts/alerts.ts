/**
 * `alerts.webhooks`: each webhook gets the events it asked for. `emit` never
 * blocks and never throws: events go to a per-webhook queue delivered in order
 * in the background (with retries), so a slow or failing receiver never holds up
 * the pipeline. `flush` waits a bounded time for the queues before exit.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.ts';
import { alertBody, type AlertEvent, type AlertEventName } from './alert-event.ts';
import { deliver, webhookTarget, DEFAULT_POLICY, type DeliveryPolicy } from './webhook-delivery.ts';

export interface WebhookConfig {
  readonly url: string;
  readonly events: readonly AlertEventName[];
}

export interface Alerts {
  emit(e: AlertEvent): void;
  /** Waits until every queued event was delivered (or given up), at most `timeoutMs`; returns how many are left. */
  flush(timeoutMs?: number): Promise<number>;
}

interface Queue { hook: WebhookConfig; target: string; pending: AlertEvent[]; busy: Promise<void> | null }

export function createAlerts(webhooks: readonly WebhookConfig[], log: Logger, metrics: Metrics, policy: DeliveryPolicy = DEFAULT_POLICY): Alerts {
  const queues: Queue[] = webhooks.map((hook) => ({ hook, target: webhookTarget(hook.url), pending: [], busy: null }));
  const stop = new AbortController();

  const pump = async (q: Queue): Promise<void> => {
    while (q.pending.length > 0) {
      const e = q.pending[0];
      const r = await deliver(q.hook.url, alertBody(e), log, policy, stop.signal).catch((err: unknown) => ({ ok: false as const, attempts: 0, why: String(err) }));
      q.pending.shift();
      metrics.alertDelivery(e.event, r.ok ? 'delivered' : 'failed');
      if (!r.ok) log.error({ event: e.event, dataset: e.dataset, webhook: q.target, attempts: r.attempts, why: r.why }, 'alert not delivered');
    }
    q.busy = null;
  };

  return {
    emit(e) {
      const wanted = queues.filter((q) => q.hook.events.includes(e.event));
      log[wanted.length > 0 ? 'info' : 'debug']({ alert: e.event, dataset: e.dataset, window: e.window, webhooks: wanted.length }, `alert: ${e.summary}`);
      for (const q of wanted) {
        q.pending.push(e);
        q.busy ??= pump(q);
      }
    },
    async flush(timeoutMs = 5000) {
      const busy = queues.map((q) => q.busy).filter((b): b is Promise<void> => b !== null);
      if (busy.length === 0) return 0;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); });
      await Promise.race([Promise.all(busy), timeout]);
      clearTimeout(timer);
      const left = queues.reduce((n, q) => n + q.pending.length, 0);
      if (left > 0) {
        stop.abort();
        log.warn({ undelivered: left, waitedMs: timeoutMs }, 'exiting with alerts not yet delivered');
      }
      return left;
    },
  };
}
