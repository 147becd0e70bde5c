/**
 * Delivers one alert body to one webhook: POST JSON, retried with exponential
 * back-off on network errors, timeouts, 408, 429 and 5xx. The URL usually holds
 * a secret (Slack puts it in the path), so only `scheme://host[:port]` is ever
 * logged, and the full URL is registered with src/core/secrets.ts as well.
 */
import type { Logger } from 'pino';
import { registerSecret } from '../secrets.ts';
import type { AlertBody } from './alert-event.ts';

export interface DeliveryPolicy {
  /** Attempts in total (first try included). */
  readonly attempts: number;
  /** Wait before the second attempt; doubles each time. */
  readonly backoffMs: number;
  /** Per attempt. */
  readonly timeoutMs: number;
}

export const DEFAULT_POLICY: DeliveryPolicy = {
  attempts: 5,
  backoffMs: Number(process.env.DUALRUN_ALERT_BACKOFF_MS) || 500,
  timeoutMs: 5000,
};

/** What may be logged about a webhook URL: its scheme and host. */
export function webhookTarget(url: string): string {
  registerSecret(url);
  try {
    const u = new URL(url);
    // The secret is in the path or query (Slack: /services/T…/B…/token); short paths like /hook are not secrets.
    const rest = `${u.pathname}${u.search}`;
    if (rest.length >= 8) registerSecret(rest);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid url)';
  }
}

export type DeliveryResult = { ok: true; attempts: number } | { ok: false; attempts: number; why: string };

export async function deliver(url: string, body: AlertBody, log: Logger, policy: DeliveryPolicy = DEFAULT_POLICY, stop?: AbortSignal): Promise<DeliveryResult> {
  const target = webhookTarget(url);
  let why = 'not attempted';
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    const r = await attemptOnce(url, body, policy.timeoutMs);
    if (r.ok) {
      log.debug({ event: body.event, webhook: target, attempt }, 'alert delivered');
      return { ok: true, attempts: attempt };
    }
    why = r.why;
    if (!r.retry || attempt === policy.attempts || stop?.aborted) return { ok: false, attempts: attempt, why };
    const wait = policy.backoffMs * 2 ** (attempt - 1);
    log.warn({ event: body.event, webhook: target, attempt, why, retryInMs: wait }, 'alert delivery failed, retrying');
    await new Promise((res) => setTimeout(res, wait));
  }
  return { ok: false, attempts: policy.attempts, why };
}

async function attemptOnce(url: string, body: AlertBody, timeoutMs: number): Promise<{ ok: true } | { ok: false; retry: boolean; why: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'dualrun' },
      body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return { ok: true };
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, retry, why: `HTTP ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    const name = (e as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (cause ?? (e as Error).name);
    return { ok: false, retry: true, why: name };
  }
}
