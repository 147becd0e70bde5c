/**
 * The HTTP endpoint of a long-running command: `GET /metrics` (Prometheus text
 * format, this runtime's registry plus the dataset state read at scrape time)
 * and `GET /healthz` (200 `{"status":"ok"}` while every check passes, else 503
 * with `{"status":"unhealthy","reason":...}`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../../core/runtime.ts';
import { DualrunError } from '../../core/errors.ts';
import { PromMetrics } from '../../core/metrics/prom-metrics.ts';
import { registerDatasetGauges } from './dataset-gauges.ts';
import type { HealthCheck } from './health-checks.ts';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveMetrics(rt: Runtime, o: { port: number; host: string; checks: readonly HealthCheck[] }): Promise<MetricsServer> {
  if (!(rt.metrics instanceof PromMetrics)) throw new DualrunError('DUALRUN_INTERNAL', 'the metrics endpoint needs the runtime\'s prom-client metrics');
  const { prom, registry } = rt.metrics.prom;
  registerDatasetGauges(prom, registry, rt);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      registry.metrics().then((text) => send(res, 200, registry.contentType, text), (e: Error) => send(res, 500, 'text/plain', `${e.message}\n`));
    } else if (path === '/healthz') {
      health(o.checks).then((h) => send(res, h.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(h)}\n`));
    } else {
      send(res, 404, 'text/plain', 'not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' || e.code === 'EACCES'
      ? new DualrunError('DUALRUN_USAGE', `metrics port ${o.port} on ${o.host} is not available (${e.code}): choose another --metrics-port / metrics.port`)
      : e));
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  rt.log.info({ port, host: o.host }, `metrics on http://${o.host}:${port}/metrics, health on /healthz`);
  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(o.checks.map((c) => c.close?.()));
    },
  };
}

async function health(checks: readonly HealthCheck[]): Promise<{ status: 'ok' | 'unhealthy'; reason?: string; checks: Record<string, string> }> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await c.check().catch((e: Error) => e.message)] as const));
  const failed = results.filter(([, r]) => r !== null);
  const out = Object.fromEntries(results.map(([n, r]) => [n, r ?? 'ok']));
  return failed.length === 0 ? { status: 'ok', checks: out } : { status: 'unhealthy', reason: failed.map(([n, r]) => `${n}: ${r}`).join('; '), checks: out };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
