/** A TCP proxy in front of a real server, to take it away from a client mid-run (no mocks). */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every open connection and refuses new ones (as a stopped server does). */
  cut(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(host: string, port: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  const srv = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) { open.add(s); s.on('error', () => undefined); s.on('close', () => open.delete(s)); }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const listening = (srv.address() as net.AddressInfo).port;
  const stop = async () => {
    for (const s of open) s.destroy();
    if (srv.listening) await new Promise<void>((r) => srv.close(() => r()));
  };
  return { port: listening, cut: stop, close: stop };
}
