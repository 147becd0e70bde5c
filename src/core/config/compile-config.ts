/**
 * Validates a parsed config once (ajv against the shipped JSON Schema, then the
 * checks a schema cannot express) and compiles it into one frozen, typed form.
 * Every error names the config path (`datasets.orders.key`) and what was expected.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject } from 'ajv';
import cron from 'node-cron';
import { DualrunError } from '../errors.ts';
import { parseByteSize } from '../byte-size.ts';
import { parseDuration } from '../duration.ts';
import { parseTableRef, type TableRef } from '../identifiers.ts';
import { didYouMean } from '../nearest-name.ts';
import { registerSecret } from '../secrets.ts';
import { urlSecrets } from '../db/url-password.ts';
import { connectionUrlProblem } from '../db/connection-url.ts';
import { interpolateEnv } from './load-config.ts';
import { packagePath } from '../package-path.ts';
import type { DatasetConfig, DualrunConfig, KafkaConfig, StreamSource, StreamWatermark } from './types.ts';
import type { AlertEventName } from '../alerts/alert-event.ts';

const require = createRequire(import.meta.url);
// From the package root: the same file from the sources and from dist/.
export const CONFIG_SCHEMA = require(packagePath('src', 'core', 'config', 'dualrun.schema.json')) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, useDefaults: false, strict: false, verbose: true });
const validate = ajv.compile(CONFIG_SCHEMA);

export interface CompileOptions {
  /** The file the config came from (named in every error). */
  path: string | null;
  env?: NodeJS.ProcessEnv;
  /** Folder relative file paths resolve against (default: the config file's). */
  baseDir?: string;
}

class Problems {
  readonly list: string[] = [];
  add(at: string, msg: string): void { this.list.push(`${at || '(root)'}: ${msg}`); }
}

export function compileConfig(raw: unknown, opts: CompileOptions): DualrunConfig {
  const file = opts.path ?? '(built-in config)';
  const data = interpolateEnv(raw ?? {}, opts.env ?? process.env, file);
  if (!validate(data)) fail(file, describeAjvErrors(validate.errors ?? []));
  const cfg = data as RawConfig;
  const baseDir = opts.baseDir ?? (opts.path ? path.dirname(opts.path) : process.cwd());
  const problems = new Problems();
  const datasets: Record<string, DatasetConfig> = {};
  for (const [name, ds] of Object.entries(cfg.datasets ?? {})) datasets[name] = compileDataset(name, ds, baseDir, problems);
  const reportSchedule = checkCron(cfg.report?.schedule, 'report.schedule', problems);
  checkOutputsDistinct(datasets, problems);
  for (const ds of Object.values(datasets)) {
    if (ds.stream.watermark?.kind === 'kafka' && !cfg.kafka) problems.add(`datasets.${ds.name}.stream.watermark.kafkaGroup`, 'needs a `kafka` section (brokers) to read the consumer group offsets');
  }
  if (problems.list.length > 0) fail(file, problems.list);
  const alerts = compileAlerts(cfg.alerts, problems);
  const dbUrl = cfg.database?.url ? cfg.database.url : null;
  if (dbUrl) checkUrl(dbUrl, 'database.url', problems);
  if (problems.list.length > 0) fail(file, problems.list);
  return deepFreeze({
    path: opts.path,
    baseDir,
    database: {
      url: dbUrl,
      poolSize: cfg.database?.poolSize ?? 10,
      embedded: { dir: path.resolve(baseDir, cfg.database?.embedded?.dir ?? '.dualrun'), port: cfg.database?.embedded?.port ?? null },
      reconnectMaxWaitMs: parseDuration(cfg.database?.reconnect?.maxWait ?? '40s') ?? 40_000,
    },
    kafka: compileKafka(cfg.kafka),
    metrics: { port: cfg.metrics?.port ?? null, host: cfg.metrics?.host ?? '0.0.0.0' },
    alerts,
    report: { schedule: reportSchedule, dir: path.resolve(baseDir, cfg.report?.dir ?? 'reports'), history: cfg.report?.history ?? 14 },
    datasets,
  });
}

function fail(file: string, problems: string[]): never {
  const head = problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`;
  throw new DualrunError('DUALRUN_CONFIG_INVALID', `invalid config ${file}: ${head}`, { details: { config: file, problems } });
}

function compileDataset(name: string, ds: RawDataset, baseDir: string, p: Problems): DatasetConfig {
  const at = `datasets.${name}`;
  const table = (v: string, where: string): TableRef => {
    const t = parseTableRef(v);
    if (!t) { p.add(where, `expected schema.table made of identifiers, got ${JSON.stringify(v)}`); return parseTableRef('invalid')!; }
    return t;
  };
  const file = (v: string | undefined, where: string): string | null => {
    if (v === undefined) return null;
    const abs = path.resolve(baseDir, v);
    if (!fs.existsSync(abs)) p.add(where, `file not found: ${v} (resolved to ${abs})`);
    return abs;
  };
  const urlOrNull = (v: string | undefined, where: string): string | null => {
    if (!v) return null;
    checkUrl(v, where, p);
    return v;
  };
  const s = ds.stream.source;
  const source: StreamSource | null = s === undefined ? null : 'table' in s && s.table !== undefined
    ? {
      kind: 'table', table: table(s.table, `${at}.stream.source.table`), topic: s.topic ?? `dualrun.${name}`,
      capture: s.capture ?? 'trigger', maxRetainedWalBytes: byteSize(s.maxRetainedWal ?? '1GB', `${at}.stream.source.maxRetainedWal`, p),
      changelogRetention: s.changelogRetention === 'forever' ? 'forever' : parseDuration(s.changelogRetention ?? '0') ?? 0,
    }
    : { kind: 'topic', topic: (s as { topic: string }).topic, format: (s as { format?: 'debezium' | 'json' }).format ?? 'debezium' };
  const adopted = ds.stream.adopted ?? source === null;
  checkAdoptedStream(at, ds, adopted, p);
  checkColumnMapping(at, ds, adopted, p);
  if (ds.window?.timezone && !isTimeZone(ds.window.timezone)) p.add(`${at}.window.timezone`, `unknown time zone ${JSON.stringify(ds.window.timezone)} (expected an IANA name such as Europe/Berlin)`);
  const ignore = ds.reconcile?.ignore ?? [];
  for (const c of ds.reconcile?.columns ?? []) {
    if (ds.key.includes(c)) p.add(`${at}.reconcile.columns`, `${c} is a key column; keys are always compared`);
  }
  for (const c of ignore) {
    // Both were silent: a key is compared whatever ignore says, and ignore won over columns.
    if (ds.key.includes(c)) p.add(`${at}.reconcile.ignore`, `${c} is a key column; keys are always compared, they cannot be ignored`);
    else if ((ds.reconcile?.columns ?? []).includes(c)) p.add(`${at}.reconcile.ignore`, `${c} is also in reconcile.columns; list it in one of the two`);
  }
  checkTolerances(at, ds, p);
  return {
    name,
    key: ds.key,
    window: ds.window ? { column: ds.window.column, grain: ds.window.grain ?? 'day', timezone: ds.window.timezone ?? 'UTC' } : null,
    batch: {
      output: table(ds.batch.output, `${at}.batch.output`),
      database: urlOrNull(ds.batch.database, `${at}.batch.database`),
      query: file(ds.batch.query, `${at}.batch.query`),
      sourceUrl: urlOrNull(ds.batch.source?.url, `${at}.batch.source.url`),
      transform: file(ds.batch.transform, `${at}.batch.transform`),
      schedule: checkCron(ds.batch.schedule, `${at}.batch.schedule`, p),
      completion: ds.batch.completion ?? null,
    },
    stream: {
      output: table(ds.stream.output, `${at}.stream.output`),
      database: urlOrNull(ds.stream.database, `${at}.stream.database`),
      source,
      adopted,
      watermark: compileWatermark(ds.stream.watermark),
      transform: file(ds.stream.transform, `${at}.stream.transform`),
      schema: file(ds.stream.schema, `${at}.stream.schema`),
      maxDeadLetterRate: ds.stream.maxDeadLetterRate ?? null,
    },
    reconcile: {
      columns: ds.reconcile?.columns ?? null,
      ignore,
      tolerance: ds.reconcile?.tolerance ?? {},
      settleMs: parseDuration(ds.reconcile?.settle ?? '0') ?? 0,
      schedule: checkCron(ds.reconcile?.schedule, `${at}.reconcile.schedule`, p),
      buckets: ds.reconcile?.buckets ?? null,
      map: ds.reconcile?.map ?? {},
      expressions: ds.reconcile?.expressions ?? {},
    },
    cutover: {
      serve: ds.cutover?.serve ? table(ds.cutover.serve, `${at}.cutover.serve`) : null,
      promoteAfter: ds.cutover?.promoteAfter ?? 7,
      retireAfter: ds.cutover?.retireAfter ?? 7,
      maxEvidenceAgeMs: parseDuration(ds.cutover?.maxEvidenceAge ?? '48h') ?? 0,
      minRowsPerWindow: ds.cutover?.minRowsPerWindow ?? 1,
    },
  };
}

/** An adopted stream output is written by someone else: nothing for dualrun's stream worker to run. */
function checkAdoptedStream(at: string, ds: RawDataset, adopted: boolean, p: Problems): void {
  if (!adopted && ds.stream.source === undefined) p.add(`${at}.stream.source`, 'required unless stream.adopted is true');
  if (adopted && ds.stream.transform !== undefined) p.add(`${at}.stream.transform`, 'an adopted stream output is written outside dualrun: no transform runs (remove it, or set adopted: false)');
  if (!adopted && ds.stream.watermark !== undefined) p.add(`${at}.stream.watermark`, "only for an adopted stream output (dualrun's own stream worker records its watermark)");
}

/**
 * A tolerance on a column that is never compared with one (ignored, left out of reconcile.columns, a key
 * column: keys are compared exactly) applied nothing, silently: the user believed the column compared
 * within it. Whether the column exists is checked against the tables (reconcile/config-columns.ts).
 */
function checkTolerances(at: string, ds: RawDataset, p: Problems): void {
  const r = ds.reconcile ?? {};
  for (const c of Object.keys(r.tolerance ?? {})) {
    const where = `${at}.reconcile.tolerance.${c}`;
    if (ds.key.includes(c)) p.add(where, `${c} is a key column: keys are compared exactly, so the tolerance never applies`);
    else if ((r.ignore ?? []).includes(c)) p.add(where, `${c} is in reconcile.ignore: it is never compared, so the tolerance never applies`);
    else if (r.columns && !r.columns.includes(c) && !(c in (r.expressions ?? {}))) p.add(where, `${c} is not in reconcile.columns: it is not compared, so the tolerance never applies`);
  }
}

/** reconcile.map / reconcile.expressions: key and window columns must stay comparable as they are. */
function checkColumnMapping(at: string, ds: RawDataset, adopted: boolean, p: Problems): void {
  const map = ds.reconcile?.map ?? {};
  const targets = new Map<string, string>();
  for (const [b, s] of Object.entries(map)) {
    if (ds.key.includes(b) && !adopted) p.add(`${at}.reconcile.map.${b}`, "a key column can be renamed only for an adopted stream output (dualrun's sink upserts by the key's own names)");
    const seen = targets.get(s);
    if (seen) p.add(`${at}.reconcile.map.${b}`, `stream column ${s} is already mapped from ${seen}`);
    targets.set(s, b);
  }
  for (const col of Object.keys(ds.reconcile?.expressions ?? {})) {
    const where = `${at}.reconcile.expressions.${col}`;
    if (ds.key.includes(col)) p.add(where, 'key columns are compared as stored; an expression cannot stand in for one');
    if (ds.window?.column === col) p.add(where, 'the window column cuts both sides into windows; an expression cannot stand in for it');
    if (col in map) p.add(where, `also in reconcile.map; give the stream side as expressions.${col}.stream instead`);
    if ((ds.reconcile?.ignore ?? []).includes(col)) p.add(where, 'also in reconcile.ignore');
  }
}

function compileWatermark(w: RawStream['watermark']): StreamWatermark | null {
  if (!w) return null;
  return 'column' in w ? { kind: 'column', column: w.column } : { kind: 'kafka', group: w.kafkaGroup, topic: w.topic };
}

function checkOutputsDistinct(datasets: Record<string, DatasetConfig>, p: Problems): void {
  const seen = new Map<string, string>();
  for (const ds of Object.values(datasets)) {
    const entries: [string, TableRef | null, string | null][] = [
      [`datasets.${ds.name}.batch.output`, ds.batch.output, ds.batch.database],
      [`datasets.${ds.name}.stream.output`, ds.stream.output, ds.stream.database],
      [`datasets.${ds.name}.cutover.serve`, ds.cutover.serve, null],
    ];
    for (const [where, t, db] of entries) {
      if (!t) continue;
      const k = `${db ?? ''}|${t.text}`;
      const other = seen.get(k);
      if (other) p.add(where, `${t.text} is already used by ${other}; each output and serving view needs its own table`);
      else seen.set(k, where);
    }
  }
}

function checkCron(expr: string | undefined, at: string, p: Problems): string | null {
  if (expr === undefined) return null;
  if (!cron.validate(expr)) p.add(at, `invalid cron expression ${JSON.stringify(expr)} (expected 5 or 6 fields, e.g. "0 2 * * *")`);
  return expr;
}

function byteSize(text: string, at: string, p: Problems): number {
  const n = parseByteSize(text);
  if (n === null) p.add(at, `expected a size such as 512MB or 1GB, got ${JSON.stringify(text)}`);
  return n ?? 0;
}

function checkUrl(url: string, at: string, p: Problems): void {
  const problem = connectionUrlProblem(url);
  if (problem) { p.add(at, problem); return; }
  try {
    const u = new URL(url);
    for (const secret of urlSecrets(url)) registerSecret(secret);
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') p.add(at, `expected a postgres:// connection string, got protocol ${u.protocol}`);
  } catch {
    p.add(at, 'expected a postgres:// connection string');
  }
}

function isTimeZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}

/** Webhook URLs must be http(s); they are secrets (Slack keeps the token in the path), so they are registered. */
function compileAlerts(a: RawConfig['alerts'], p: Problems): DualrunConfig['alerts'] {
  const webhooks = (a?.webhooks ?? []).map((w, i) => {
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(w.url).protocol); } catch { /* reported below */ }
    if (!ok) p.add(`alerts.webhooks.${i}.url`, 'expected an http:// or https:// URL');
    registerSecret(w.url);
    return { url: w.url, events: w.events };
  });
  return { webhooks };
}

function compileKafka(k: RawConfig['kafka']): KafkaConfig | null {
  if (!k) return null;
  if (k.sasl?.password) registerSecret(k.sasl.password);
  const ms = (v: string | undefined, dflt: number) => (v === undefined ? dflt : parseDuration(v) ?? dflt);
  return {
    brokers: k.brokers, clientId: k.clientId ?? 'dualrun', groupPrefix: k.groupPrefix ?? 'dualrun', ssl: k.ssl ?? false, sasl: k.sasl ?? null,
    connectTimeoutMs: ms(k.connectTimeout, 30_000), sessionTimeoutMs: ms(k.sessionTimeout, 10_000),
    stallTimeoutMs: ms(k.stallTimeout, 60_000), reconnectMaxWaitMs: ms(k.reconnect?.maxWait, 40_000),
  };
}

/** ajv errors as `path: what was expected`, deduplicated, oneOf noise folded. */
export function describeAjvErrors(errors: ErrorObject[]): string[] {
  const out = new Set<string>();
  const sourcePaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    const at = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
    // The whole document (a YAML list, a bare string) is `(root)`, not an empty name.
    const where = at || '(root)';
    if ([...sourcePaths].some((sp) => e.instancePath.startsWith(sp)) && e.keyword !== 'oneOf') continue;
    // A bad dataset name fails its `pattern` inside `propertyNames` too: said once, by the propertyNames line.
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const param = e.params as Record<string, unknown>;
    const meant = e.keyword === 'oneOf' ? meantBranchErrors(errors, e) : null;
    if (meant) { for (const m of describeAjvErrors(meant)) out.add(m); continue; }
    switch (e.keyword) {
      case 'oneOf': out.add(at.endsWith('.watermark')
        ? `${at}: expected either { column } (newest value in stream.output) or { kafkaGroup, topic } (a consumer group's committed offsets)`
        : `${at}: expected either { topic, format } (a Kafka topic) or { table } (built-in capture from a Postgres table)`); break;
      case 'required': out.add(`${at ? `${at}.` : ''}${String(param.missingProperty)}: required field is missing`); break;
      case 'additionalProperties': out.add(`${at ? `${at}.` : ''}${String(param.additionalProperty)}: unknown field${knownFieldHint(e, String(param.additionalProperty))}`); break;
      case 'propertyNames': out.add(`${where}: invalid name ${JSON.stringify(param.propertyName)} (${nameHint(errors, e)})`); break;
      case 'pattern': out.add(`${where}: ${JSON.stringify(valueAt(e))} is not valid here (${patternHint(String(param.pattern))})`); break;
      case 'enum': out.add(`${where}: expected one of ${(param.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`); break;
      case 'type': out.add(`${where}: expected ${String(param.type)}`); break;
      default: out.add(`${where}: ${e.message ?? 'invalid'}`);
    }
  }
  return [...out];
}

/** ` (did you mean ignore?)`: the field of that object nearest to a misspelt one (`ignroe`), from the schema. */
function knownFieldHint(e: ErrorObject, field: string): string {
  const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? didYouMean(field, Object.keys(props)) : '';
}

/**
 * The errors of the one oneOf branch the object was meant for (it has that branch's required
 * fields, and not the others'), or null. `source: { topic, format, partitons }` got only
 * "expected either { topic, format } or { table }", never naming the misspelt field.
 */
function meantBranchErrors(errors: ErrorObject[], oneOf: ErrorObject): ErrorObject[] | null {
  const prefix = `${oneOf.schemaPath}/`;
  const byBranch = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e === oneOf || !e.schemaPath.startsWith(prefix) || !e.instancePath.startsWith(oneOf.instancePath)) continue;
    const branch = e.schemaPath.slice(prefix.length).split('/')[0];
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
  }
  const branches = [...byBranch.values()];
  const meant = branches.filter((es) => !es.some((e) => e.keyword === 'required' && e.instancePath === oneOf.instancePath));
  if (meant.length !== 1) return null;
  // A field unknown here but known to another branch mixes the two shapes: say both.
  const unknownIn = (es: ErrorObject[]) => new Set(es.filter((e) => e.keyword === 'additionalProperties' && e.instancePath === oneOf.instancePath).map((e) => String((e.params as { additionalProperty: string }).additionalProperty)));
  const others = branches.filter((b) => b !== meant[0]).map(unknownIn);
  const mixed = [...unknownIn(meant[0])].some((f) => others.some((o) => !o.has(f)));
  return mixed ? null : meant[0];
}

function valueAt(e: ErrorObject): unknown { return (e as ErrorObject & { data?: unknown }).data; }

/** What a name inside `propertyNames` must look like, from its own pattern (dataset names and reconcile.map keys differ). */
function nameHint(errors: ErrorObject[], e: ErrorObject): string {
  const inner = errors.find((x) => x.keyword === 'pattern' && x.propertyName === (e.params as { propertyName?: string }).propertyName && x.instancePath === e.instancePath);
  const pattern = String((inner?.params as { pattern?: string } | undefined)?.pattern ?? '');
  return pattern === '^[a-z][a-z0-9_]{0,62}$' ? 'expected lower-case letters, digits and _, starting with a letter' : pattern ? patternHint(pattern) : 'not a valid name here';
}

function patternHint(pattern: string): string {
  if (pattern.includes('\\.)?')) return 'expected schema.table made of identifiers: letters, digits, _ and $, not starting with a digit';
  if (pattern.startsWith('^[A-Za-z_]')) return 'expected an identifier: letters, digits, _ and $, not starting with a digit';
  if (pattern.includes('ms|s|m|h|d|w')) return 'expected a duration such as 15m, 48h or 7d';
  if (pattern.includes('6553[0-5]')) return 'expected host:port, the port from 1 to 65535';
  return `expected to match ${pattern}`;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

interface RawDataset {
  key: string[];
  window?: { column: string; grain?: 'hour' | 'day'; timezone?: string };
  batch: { output: string; database?: string; query?: string; source?: { url: string }; transform?: string; schedule?: string; completion?: string };
  stream: RawStream;
  reconcile?: {
    columns?: string[]; ignore?: string[]; tolerance?: Record<string, number>; settle?: string; schedule?: string; buckets?: number;
    map?: Record<string, string>; expressions?: Record<string, { batch?: string; stream?: string }>;
  };
  cutover?: { serve?: string; promoteAfter?: number; retireAfter?: number; maxEvidenceAge?: string; minRowsPerWindow?: number };
}
interface RawStream {
  output: string; database?: string; transform?: string; schema?: string; maxDeadLetterRate?: { ratio: number; window: number };
  source?: { topic: string; format?: 'debezium' | 'json' } | { table: string; topic?: string; capture?: 'trigger' | 'logical'; maxRetainedWal?: string; changelogRetention?: string };
  adopted?: boolean; watermark?: { column: string } | { kafkaGroup: string; topic: string };
}
interface RawConfig {
  database?: { url?: string; poolSize?: number; embedded?: { dir?: string; port?: number }; reconnect?: { maxWait?: string } };
  kafka?: {
    brokers: string[]; clientId?: string; groupPrefix?: string; ssl?: boolean; sasl?: KafkaConfig['sasl'];
    connectTimeout?: string; sessionTimeout?: string; stallTimeout?: string; reconnect?: { maxWait?: string };
  };
  report?: { schedule?: string; dir?: string; history?: number };
  metrics?: { port?: number; host?: string };
  alerts?: { webhooks?: { url: string; events: AlertEventName[] }[] };
  datasets?: Record<string, RawDataset>;
}
