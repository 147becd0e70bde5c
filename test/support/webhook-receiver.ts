/** A local webhook receiver (node:http on 127.0.0.1) recording every request; paths may be told to fail first. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest { path: string; body: Record<string, unknown>; contentType: string | undefined; status: number }

export interface WebhookReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** The next `n` requests to `path` answer 500. */
  failNext(path: string, n: number): void;
  /** Bodies that were accepted (2xx) for a path. */
  accepted(path: string): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const failures = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const path = req.url ?? '/';
      const left = failures.get(path) ?? 0;
      const status = left > 0 ? 500 : 200;
      if (left > 0) failures.set(path, left - 1);
      let body: Record<string, unknown> = {};
      try { body = JSON.parse(raw) as Record<string, unknown>; } catch { body = { unparsable: raw }; }
      requests.push({ path, body, contentType: req.headers['content-type'], status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (path, n) => { failures.set(path, n); },
    accepted: (path) => requests.filter((r) => r.path === path && r.status === 200).map((r) => r.body),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
