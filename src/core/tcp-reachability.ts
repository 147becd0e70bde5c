/**
 * A quick TCP check of service addresses before a client library's own connect loop.
 * kafkajs retries refused brokers until `kafka.connectTimeout` (30 s by default) has
 * passed, so a wrong broker list took 30 s to exit 3 and said only "no answer". When no
 * address accepts a TCP connection within a few seconds, nothing the library retries
 * can work yet: the caller fails at once, naming each host:port and the OS's reason
 * (ECONNREFUSED, ENOTFOUND, timeout). An address that accepts is left to the library
 * and its configured timeout (a slow broker still gets all of it).
 */
import net from 'node:net';

/** Long enough for two lost SYNs (Linux resends after 1 s and 3 s), short enough to be "at once". */
export const REACHABILITY_TIMEOUT_MS = 5000;

export interface AddressProbe { readonly address: string; readonly ok: boolean; readonly reason: string }

/** `host:port` (IPv6 as `[::1]:9092`) → its parts; null when it has no usable port. */
export function splitHostPort(address: string, defaultPort?: number): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!m) return null;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  return port === undefined || !Number.isInteger(port) || port < 1 || port > 65535 ? null : { host: m[1], port };
}

/** Tries one TCP connection; closes it at once. Never rejects. */
export function probeAddress(address: string, timeoutMs = REACHABILITY_TIMEOUT_MS, defaultPort?: number): Promise<AddressProbe> {
  const hp = splitHostPort(address, defaultPort);
  if (!hp) return Promise.resolve({ address, ok: true, reason: 'not a host:port (left to the client)' });
  return new Promise((resolve) => {
    const socket = net.connect({ host: hp.host, port: hp.port });
    const done = (ok: boolean, reason: string) => { clearTimeout(timer); socket.destroy(); resolve({ address, ok, reason }); };
    const timer = setTimeout(() => done(false, `no TCP answer within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    // The connecting socket keeps the process alive while it matters; the timer alone must not.
    timer.unref();
    socket.once('connect', () => done(true, 'connected'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
  });
}

/** Probes every address at once; resolves to all results (in the given order). */
export function probeAddresses(addresses: readonly string[], timeoutMs = REACHABILITY_TIMEOUT_MS, defaultPort?: number): Promise<AddressProbe[]> {
  return Promise.all(addresses.map((a) => probeAddress(a, timeoutMs, defaultPort)));
}

/** `127.0.0.1:1 (ECONNREFUSED), kafka:9092 (ENOTFOUND)`: what was tried and why it failed. */
export function describeProbes(probes: readonly AddressProbe[]): string {
  return probes.map((p) => `${p.address} (${p.reason})`).join(', ');
}
