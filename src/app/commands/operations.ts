/**
 * What every long-running command (`stream`, `capture`, `schedule`) runs beside
 * its work: the Prometheus endpoint (`--metrics-port`, else `metrics.port`) with
 * /healthz, and for `stream` the heartbeat. Started before the work, stopped after.
 */
import type { Command } from 'commander';
import { DualrunError } from '../../core/errors.ts';
import type { Runtime } from '../../core/runtime.ts';
import type { MetricsServer } from '../metrics/metrics-server.ts';

export function addMetricsPortOption(cmd: Command): Command {
  return cmd.option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port (default: metrics.port; 0: any free port)');
}

export interface OperationsOptions {
  /** The --metrics-port value as given. */
  readonly metricsPort?: string;
  /** The command talks to Kafka (then /healthz checks it too). */
  readonly kafka: boolean;
  /** Datasets whose streaming the heartbeat reports (stream only). */
  readonly heartbeat?: readonly string[];
}

export async function withOperations<T>(rt: Runtime, o: OperationsOptions, work: () => Promise<T>): Promise<T> {
  const port = metricsPort(o.metricsPort) ?? rt.config.metrics.port;
  let server: MetricsServer | null = null;
  // Loaded only when used: the CLI imports this file at start-up, and `--help` must stay fast.
  if (port !== null) {
    const { serveMetrics } = await import('../metrics/metrics-server.ts');
    const { kafkaCheck, postgresCheck, workerCheck } = await import('../metrics/health-checks.ts');
    const checks = [postgresCheck(rt), ...(o.kafka ? [kafkaCheck(rt)] : []), workerCheck(rt)];
    server = await serveMetrics(rt, { port, host: rt.config.metrics.host, checks });
  }
  const beat = o.heartbeat ? (await import('../../../streaming/stream-heartbeat.ts')).startHeartbeat(rt, o.heartbeat) : null;
  try {
    return await work();
  } finally {
    beat?.stop();
    await server?.close();
  }
}

function metricsPort(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new DualrunError('DUALRUN_USAGE', `--metrics-port: expected a port number 0-65535, got ${JSON.stringify(v)}`);
  return n;
}
