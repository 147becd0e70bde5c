/** A kafkajs client from the compiled config; kafkajs logs go to pino (warnings and up). */
import kafkajs, { type Kafka, type KafkaConfig as KafkajsConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../src/core/config/types.ts';
import { DualrunError } from '../src/core/errors.ts';
import { registerKafkaCodecs } from './kafka-codecs.ts';
import { REACHABILITY_TIMEOUT_MS, describeProbes, probeAddresses } from '../src/core/tcp-reachability.ts';
import { rejectOnStop } from '../src/core/stopped.ts';

const { Kafka: KafkaClass, logLevel } = kafkajs;

export function createKafka(cfg: KafkaConfig, log: Logger): Kafka {
  registerKafkaCodecs();
  const options: KafkajsConfig = {
    brokers: [...cfg.brokers],
    clientId: cfg.clientId,
    ssl: cfg.ssl,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      // kafkajs puts a connection error's stack in its entries: like our own, only at debug.
      const { message, stack, ...extra } = entry;
      const fields = { kafka: { namespace: entry.namespace, ...extra, ...(log.isLevelEnabled('debug') && stack ? { stack } : {}) } };
      // kafkajs logs at ERROR what it then retries (e.g. a rebalance in progress); warn is honest.
      if (level <= logLevel.WARN) log.warn(fields, `kafkajs: ${message}`);
    },
    // Short retries (~10 s in all): a lost broker surfaces soon as an error, and the
    // reconnect policy (src/core/reconnect-policy.ts) decides how long to keep trying.
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
  };
  if (cfg.sasl) options.sasl = { mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as SASLOptions;
  return new KafkaClass(options);
}

/**
 * Disconnects without waiting on a request the broker never answers: kafkajs's disconnect
 * waits for an in-flight connect, up to its 30 s request timeout, so a silent broker kept
 * a command 30 s past kafka.connectTimeout. Never rejects.
 */
export async function disconnectWithin(client: { disconnect(): Promise<void> }, ms = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.disconnect().catch(() => undefined), new Promise<void>((r) => { timer = setTimeout(r, ms); timer.unref(); })]);
  clearTimeout(timer);
}

/** Consumer group id of a dataset (`<groupPrefix>.<dataset>`). */
export function groupIdFor(cfg: KafkaConfig, dataset: string): string {
  return `${cfg.groupPrefix}.${dataset}`;
}

/** DUALRUN_KAFKA_UNREACHABLE naming the brokers and what was being done; the kafkajs error is the cause. */
export function kafkaUnreachable(brokers: readonly string[], what: string, err: unknown): DualrunError {
  if (err instanceof DualrunError) return err;
  const e = err as { name?: string; message?: string };
  const auth = /SASL|Authentication|authenticat/i.test(`${e.name ?? ''} ${e.message ?? ''}`);
  const hint = auth ? ' (authentication failed: check kafka.sasl and kafka.ssl against the listener the brokers offer)' : '';
  return new DualrunError('DUALRUN_KAFKA_UNREACHABLE', `${what}: cannot reach Kafka brokers ${brokers.join(', ')}${hint}: ${e.message ?? String(err)}`,
    { cause: err, details: { service: 'kafka', brokers: [...brokers] } });
}

/**
 * DUALRUN_KAFKA_UNREACHABLE within a few seconds when no broker of the list accepts a TCP
 * connection, naming each host:port and the OS's reason; kafkajs would retry them for the
 * whole connect timeout and then say only "no answer" (src/core/tcp-reachability.ts).
 */
export async function requireReachableBroker(brokers: readonly string[], what: string, timeoutMs = REACHABILITY_TIMEOUT_MS): Promise<void> {
  const probes = await probeAddresses(brokers, timeoutMs);
  if (probes.some((p) => p.ok)) return;
  throw new DualrunError('DUALRUN_KAFKA_UNREACHABLE', `${what}: cannot reach Kafka brokers ${describeProbes(probes)}: no broker accepted a TCP connection (check kafka.brokers)`,
    { details: { service: 'kafka', brokers: [...brokers], tried: probes.map((p) => ({ broker: p.address, error: p.reason })) } });
}

/**
 * Runs a connect step (admin/producer connect and a first request) again until it
 * works or `timeoutMs` has passed; then DUALRUN_KAFKA_UNREACHABLE. An authentication
 * failure is final at once: trying again cannot fix credentials. Brokers none of which
 * accepts a TCP connection fail at once (requireReachableBroker), not after `timeoutMs`.
 *
 * A stop (`signal` aborted: SIGTERM/SIGINT) before or during a step is DUALRUN_INTERRUPTED
 * at once (src/core/stopped.ts), never "unreachable": the loop used to end on the abort and
 * report the brokers unreachable ("no answer within 30 s"), so `dualrun capture` sent
 * SIGTERM while its relay connected exited 3. The abandoned step settles on its own.
 */
export async function withConnectDeadline<T>(brokers: readonly string[], what: string, timeoutMs: number, step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const stop = rejectOnStop(`${what}: connecting to Kafka`, signal);
  try {
    await Promise.race([requireReachableBroker(brokers, what, Math.min(timeoutMs, REACHABILITY_TIMEOUT_MS)), stop.promise]);
    const deadline = Date.now() + timeoutMs;
    let last: unknown = new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`);
    while (Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), deadline - Date.now()); });
      const attempt = step();
      // Left behind by a stop or the deadline, its later rejection is nobody's.
      attempt.catch(() => undefined);
      try {
        return await Promise.race([attempt, timeout, stop.promise]);
      } catch (e) {
        if (e instanceof DualrunError) throw e;
        last = e;
        if (/SASL|Authentication/i.test(`${(e as Error).name} ${(e as Error).message}`)) break;
        await Promise.race([new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now())))), stop.promise]);
      } finally {
        clearTimeout(timer);
      }
    }
    throw kafkaUnreachable(brokers, what, last);
  } finally {
    stop.dispose();
  }
}
