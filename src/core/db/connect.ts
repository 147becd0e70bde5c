/**
 * Postgres pools. Connection failures become DUALRUN_DB_UNREACHABLE (exit 3)
 * naming host, port, user and database, never the password.
 */
import pg from 'pg';
import { DualrunError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';
import { urlSecrets } from './url-password.ts';
import { connectionUrlProblem } from './connection-url.ts';
import { REACHABILITY_TIMEOUT_MS, probeAddress } from '../tcp-reachability.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
// Postgres SQLSTATEs that mean "cannot get in" rather than "query failed".
const CONNECT_SQLSTATES = new Set(['28P01', '28000', '3D000', '57P03', '53300']);
// The server went away under a connection: shutdown, crash, restart, failover.
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const LOST_MESSAGES = /timeout expired|Connection terminated|terminating connection|not queryable|connection error|the database system is (shutting down|starting up|in recovery mode|not yet accepting)|Connection refused|socket hang up/i;

export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    for (const secret of urlSecrets(url)) registerSecret(secret);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default)';
    return `${u.hostname || 'localhost'}:${u.port || '5432'} (database ${db}, user ${decodeURIComponent(u.username) || '(default)'})`;
  } catch {
    return '(unparseable connection string)';
  }
}

export function createPool(url: string, opts: { max?: number; applicationName?: string; role?: string } = {}): Pool {
  const problem = connectionUrlProblem(url);
  if (problem) throw new DualrunError('DUALRUN_CONFIG_INVALID', `connection string of ${opts.role ?? 'Postgres'}: ${problem}`);
  describeTarget(url); // registers the password as a secret before anything can log it
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'dualrun',
    connectionTimeoutMillis: 10_000,
    // pg-pool runs `verify` on each new client before handing it out: the output settings below apply
    // before anyone's first query. (pg.PoolConfig does not declare it; pg-pool 3 supports it.)
    verify: (client: pg.PoolClient, done: (err?: Error) => void) => { client.query(READABLE_OUTPUT_SQL).then(() => done(), done); },
  } as pg.PoolConfig);
  // A server restart emits 'error' on every client: idle ones (the pool's listener) and
  // checked-out ones (the listener added at connect). Unhandled, either kills the process
  // with a raw stack; handled, the query in flight rejects and the caller's reconnect
  // policy decides (src/core/reconnect-policy.ts).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    // The first: the server's FATAL (57P01) comes before the socket's "Connection terminated unexpectedly".
    client.on('error', (e: Error) => { if (!lostWith.has(client)) lostWith.set(client, e); });
  });
  return pool;
}

/** The error each client's connection was lost with (its 'error' event): pg says only "not queryable" to later queries. */
const lostWith = new WeakMap<pg.ClientBase, Error>();

/**
 * `e` with the error the client's connection was lost with as its cause, when pg reports only
 * "Client has encountered a connection error and is not queryable": the database's own fields
 * (57P01 from pg_terminate_backend, a shutdown's 57P01/57P02) reach the ledger and the logs
 * instead of a message with no code.
 */
export function withLostCause(e: unknown, client: pg.ClientBase): unknown {
  const lost = lostWith.get(client);
  if (!lost || !(e instanceof Error) || e.cause !== undefined || !/not queryable/.test(e.message)) return e;
  return Object.assign(e, { cause: lost });
}

/**
 * node-postgres reads dates, times and intervals only in Postgres's default text forms:
 * under a role's or database's `DateStyle = 'SQL, DMY'` (or German, Postgres) every
 * timestamp it reads is null, so ledgers, watermarks and verdict times would be lost; under
 * `IntervalStyle = sql_standard` intervals are misread. Every dualrun connection therefore
 * prints dates as ISO and intervals in the postgres style. Only the output format changes:
 * `set_config('DateStyle', 'ISO')` keeps the input order the role set (DMY stays DMY), so a
 * user's query still reads '05/11/2026' as it always did (docs/operations.md, "Session settings").
 * Floats print with every digit (`extra_float_digits` at least 1: the shortest text that
 * reads back as the same double): under a role's 0 or less, logical capture (whose values
 * this session's output functions print) and to_jsonb dropped digits, 0.1000000000000001 became 0.1.
 */
export const READABLE_OUTPUT_SQL = `SELECT pg_catalog.set_config('DateStyle', 'ISO', false), pg_catalog.set_config('IntervalStyle', 'postgres', false),
  pg_catalog.set_config('extra_float_digits', CASE WHEN pg_catalog.current_setting('extra_float_digits')::int < 1 THEN '1' ELSE pg_catalog.current_setting('extra_float_digits') END, false)`;

/** Opens a pool and proves it can connect, or throws DUALRUN_DB_UNREACHABLE. */
export async function connectPool(url: string, opts: { max?: number; applicationName?: string; role?: string } = {}): Promise<Pool> {
  const pool = createPool(url, { ...opts, role: opts.role });
  try {
    await Promise.race([pool.query('SELECT 1'), noTcpAnswer(url)]);
  } catch (e) {
    // Not waiting longer than a second: pool.end waits for a connect attempt still in flight.
    await Promise.race([pool.end().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    throw connectError(e, url, opts.role);
  }
  return pool;
}

/**
 * Rejects when the server's address does not accept a TCP connection within 5 s (a
 * blackholed host, a firewall dropping SYNs); never settles otherwise. pg waited its whole
 * 10 s connection timeout and said only "Connection terminated due to connection timeout",
 * the same words as a server that accepted and then stalled in authentication.
 */
async function noTcpAnswer(url: string): Promise<never> {
  const address = tcpAddress(url);
  const probe = address ? await probeAddress(address, REACHABILITY_TIMEOUT_MS, 5432) : null;
  if (probe && !probe.ok && probe.reason.startsWith('no TCP answer')) throw Object.assign(new Error(probe.reason), { code: 'ETIMEDOUT' });
  return new Promise<never>(() => undefined);
}

/** host:port the URL connects to over TCP; null for a Unix socket (`?host=/run/postgresql`) or no host. */
function tcpAddress(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.searchParams.has('host') || !u.hostname) return null;
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return null;
  }
}

export function isConnectFailure(e: unknown): boolean {
  const err = e as { code?: string; errno?: string; message?: string };
  return UNREACHABLE_CODES.has(err.code ?? '') || CONNECT_SQLSTATES.has(err.code ?? '') || /timeout expired|Connection terminated/i.test(err.message ?? '');
}

/**
 * Whether an error (anywhere in its cause chain) means the connection to Postgres
 * was lost or could not be made, as opposed to a query that failed on a live server.
 */
export function isConnectionLoss(e: unknown): boolean {
  for (let c = e, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    const err = c as { code?: string; message?: string };
    if (isConnectFailure(c) || LOST_SQLSTATES.has(err.code ?? '') || LOST_MESSAGES.test(err.message ?? '')) return true;
  }
  return false;
}

export function connectError(e: unknown, url: string, role = 'Postgres'): DualrunError {
  const err = e as { code?: string; message?: string };
  const reason = err.message || err.code || String(e);
  if (!isConnectFailure(e)) return new DualrunError('DUALRUN_DB_QUERY_FAILED', `${role} at ${describeTarget(url)}: ${reason}`, { cause: e });
  return new DualrunError('DUALRUN_DB_UNREACHABLE', `cannot connect to ${role} at ${describeTarget(url)}: ${reason}`, { cause: e, details: { target: describeTarget(url) } });
}

/**
 * Runs fn inside BEGIN/COMMIT on one client; rolls back on any error. `begin` sets
 * the opening statement (e.g. `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`).
 * A connection that cannot even roll back is dropped from the pool, not reused.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, opts: { begin?: string } = {}): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(opts.begin ?? 'BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch((rb: Error) => { broken = rb; });
    throw withLostCause(e, client);
  } finally {
    client.release(broken);
  }
}

/**
 * pg_catalog first on the search path, for this transaction: the reconciler's SQL names
 * Postgres's functions, operators and types unqualified (`hashtextextended`, `trim_scale`, `=`,
 * `::text`, `::date`), and a role whose search_path lists its own schema before pg_catalog
 * (`SET search_path = app, pg_catalog`, as Oracle-compatibility setups do) could have a `date`
 * type, a `trim_scale` or an `=` of its own there that would be used instead. The user's own
 * schemas stay on the path after it, so reconcile.expressions still find their functions (they are
 * planned under the same path, expression-type.ts, so the type planned is the type read).
 * For the current transaction only.
 */
/**
 * pg_catalog alone on the search path, for this transaction. Even with pg_catalog first, Postgres
 * prefers a function or operator of the user's whose argument types match exactly over
 * pg_catalog's (`public.hash_numeric_extended(numeric, integer)` for a call with the literal 0,
 * where pg_catalog's takes bigint; an `=` on a domain): path order only decides between identical
 * signatures. SQL that reads no user function (the reconciler's, on a side without
 * reconcile.expressions) runs with this; tables are always named with their schema.
 */
export const CATALOG_ONLY_SQL = `SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)`;

export const CATALOG_FIRST_SQL = `SELECT pg_catalog.set_config('search_path',
  CASE WHEN pg_catalog.btrim(pg_catalog.current_setting('search_path')) OPERATOR(pg_catalog.=) '' THEN 'pg_catalog'
       ELSE 'pg_catalog, ' OPERATOR(pg_catalog.||) pg_catalog.current_setting('search_path') END, true)`;
