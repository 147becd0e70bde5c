/** Network addresses that misbehave for real, for unreachable-service tests (no mocks). */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface Blackholes { blackhole(): Promise<number>; silent(): Promise<number>; close(): void }

/**
 * `blackhole()`: a listening port that drops new SYNs (its stopped process never accepts and
 * its backlog is full), as a firewall or a dead host does. `silent()`: a port that accepts TCP
 * and never says a word, as a hung server does.
 */
export function blackholes(): Blackholes {
  const children: ChildProcess[] = [];
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  return {
    async blackhole() {
      const child = spawn(process.execPath, ['-e', "const s=require('net').createServer();s.listen({host:'127.0.0.1',port:0,backlog:1},()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      const port = await new Promise<number>((r) => child.stdout!.once('data', (d) => r(Number(String(d).trim()))));
      process.kill(child.pid!, 'SIGSTOP');
      for (let i = 0; i < 2; i++) sockets.push(net.connect(port, '127.0.0.1').on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 200));
      return port;
    },
    async silent() {
      const srv = net.createServer((s) => { sockets.push(s); });
      servers.push(srv);
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      return (srv.address() as net.AddressInfo).port;
    },
    close() {
      for (const s of sockets) s.destroy();
      for (const c of children) c.kill('SIGKILL');
      for (const s of servers) s.close();
    },
  };
}
