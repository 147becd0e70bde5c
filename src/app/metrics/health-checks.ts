/**
 * What /healthz checks, live at each request: the toolkit Postgres answers a
 * query, and, when the command uses Kafka, the cluster answers a metadata
 * request. Each check is bounded so a hung service reads as unhealthy, not as a
 * hung probe.
 */
import type { Admin } from 'kafkajs';
import type { Runtime } from '../../core/runtime.ts';
import { scrubSecrets } from '../../core/secrets.ts';

export interface HealthCheck {
  readonly name: string;
  /** Resolves null when healthy, else the reason. */
  check(): Promise<string | null>;
  close?(): Promise<void>;
}

const TIMEOUT_MS = 2000;
/** How long closing the Kafka check may take when the command stops. */
const CLOSE_MS = 1000;

async function bounded(work: () => Promise<unknown>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((r) => { timer = setTimeout(() => r(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS); });
  try {
    return await Promise.race([work().then(() => null), timeout]);
  } catch (e) {
    return scrubSecrets((e as Error).message || String(e));
  } finally {
    clearTimeout(timer);
  }
}

export function postgresCheck(rt: Runtime): HealthCheck {
  return { name: 'postgres', check: () => bounded(async () => (await rt.db()).query('SELECT 1')) };
}

/** One admin connection kept between probes; dropped after a failure so the next probe reconnects. */
export function kafkaCheck(rt: Runtime): HealthCheck {
  let admin: Promise<Admin> | null = null;
  const connect = async (): Promise<Admin> => {
    const { createKafka } = await import('../../../streaming/kafka-client.ts');
    const a = createKafka(rt.config.kafka!, rt.log).admin();
    await a.connect();
    return a;
  };
  return {
    name: 'kafka',
    async check() {
      admin ??= connect();
      const current = admin;
      const r = await bounded(async () => (await current).describeCluster());
      if (r !== null) {
        admin = null;
        current.then((a) => a.disconnect(), () => undefined).catch(() => undefined);
      }
      return r;
    },
    async close() {
      const pending = admin;
      admin = null;
      if (!pending) return;
      // A probe's connect still in flight to a broker that does not answer held the stop past the
      // CLI's 4 s deadline (exit 143 instead of 0): wait at most CLOSE_MS for it and its disconnect.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((r) => { timer = setTimeout(r, CLOSE_MS); });
      await Promise.race([pending.then((a) => a.disconnect(), () => undefined).catch(() => undefined), bound]);
      clearTimeout(timer);
    },
  };
}

/** The worker's own view (src/core/worker-health.ts): reconnecting, stalled or failed is unhealthy even when the services answer. */
export function workerCheck(rt: Runtime): HealthCheck {
  return {
    name: 'worker',
    async check() {
      const h = rt.health.snapshot();
      return h.state === 'healthy' || h.state === 'starting' || h.state === 'stopped' ? null : `${h.state}${h.detail ? `: ${scrubSecrets(h.detail)}` : ''}`;
    },
  };
}
