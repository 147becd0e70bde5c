/**
 * One table reached over a Unix socket on one side and over TCP on the other was compared
 * with itself: a match by construction. The same-source check told servers apart by
 * `inet_server_port()`, which is NULL on a socket connection, so the two connections looked
 * like two servers and the check was skipped. The server is now named by its `port` setting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireEmbeddedPostgres, type EmbeddedHandle } from '../../src/core/db/embedded-postgres.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, runtimeFor } from './support.ts';

let handle: EmbeddedHandle;
let dir: string;
let sockets: string;
let tcpUrl: string;
let socketUrl: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-sock-pg-'));
  fs.chmodSync(dir, 0o755); // the server runs as the unprivileged postgres user when we are root
  sockets = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-sock-'));
  fs.chmodSync(sockets, 0o1777);
  handle = await acquireEmbeddedPostgres({ dir, settings: { fsync: 'off', unix_socket_directories: sockets } });
  tcpUrl = handle.url;
  const u = new URL(tcpUrl);
  socketUrl = `postgresql://postgres:${u.password}@localhost/postgres?host=${encodeURIComponent(sockets)}&port=${u.port}`;
  const c = new pg.Client({ connectionString: tcpUrl });
  await c.connect();
  await c.query(`CREATE SCHEMA so; CREATE TABLE so.t (id int PRIMARY KEY, v int); INSERT INTO so.t SELECT g, g FROM generate_series(1, 5) g;
    CREATE TABLE so.other (LIKE so.t INCLUDING ALL); INSERT INTO so.other SELECT * FROM so.t;`);
  await c.end();
});
afterAll(async () => {
  await handle?.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (sockets) fs.rmSync(sockets, { recursive: true, force: true });
});

async function judge(stream: string) {
  const rt = runtimeFor({ url: tcpUrl } as TestDatabase, { d: dataset({ key: ['id'], batch: { output: 'so.t', database: socketUrl }, stream: { output: stream } }) });
  try { return (await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 5, store: false }))[0]; } finally { await rt.close(); }
}

describe('one server reached over a Unix socket and over TCP', () => {
  it('the socket connection really has no inet_server_port (the trap this test needs)', async () => {
    const c = new pg.Client({ connectionString: socketUrl });
    await c.connect();
    try { expect((await c.query('SELECT inet_server_port() AS p')).rows[0].p).toBeNull(); } finally { await c.end(); }
  });

  it('the same table on both sides is refused as the same table, not a match', async () => {
    const r = await judge('so.t');
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toContain('so.t is the batch output so.t (the same table)');
  });

  it('two tables of that server are still compared', async () => {
    expect((await judge('so.other')).verdict).toBe('match');
  });
});
