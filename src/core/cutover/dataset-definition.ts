/**
 * A dataset's definition: what makes its two outputs what they are. Evidence
 * judged under another definition (or before the current one began) says nothing
 * about the outputs now, so the gate does not count it (docs/cutover.md, rule 3).
 *
 * Parts, each a sha256:
 *  - batchQuery, batchTransform, streamTransform, streamSchema: file contents;
 *    a transform also hashes the local files it imports (relative specifiers) and
 *    the name and version of each package it (or they) import by bare specifier;
 *  - config: the dataset's compiled config without what cannot change a row
 *    (passwords and other connection settings, schedules, settle, cutover, bucket
 *    count); which database each side lives in is kept (`databaseIdentity`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import type { Pool, PoolClient } from '../db/connect.ts';
import type { DatasetConfig } from '../config/types.ts';

export interface DatasetDefinition {
  readonly fingerprint: string;
  readonly parts: Readonly<Record<string, string>>;
}

/** The current definition, read from config and files now. */
export function datasetDefinition(ds: DatasetConfig): DatasetDefinition {
  const parts: Record<string, string> = {
    config: sha(JSON.stringify(shapingConfig(ds))),
    batchQuery: fileHash(ds.batch.query, false),
    batchTransform: fileHash(ds.batch.transform, true),
    streamTransform: fileHash(ds.stream.transform, true),
    streamSchema: fileHash(ds.stream.schema, false),
  };
  return { fingerprint: sha(JSON.stringify(parts)).slice(0, 32), parts };
}

/** Human names of the parts that differ between two definitions. */
export function changedParts(before: Readonly<Record<string, string>> | null, after: Readonly<Record<string, string>>): string[] {
  const names: Record<string, string> = {
    config: 'dataset config', batchQuery: 'batch query file', batchTransform: 'batch transform',
    streamTransform: 'stream transform', streamSchema: 'stream record schema',
  };
  return Object.keys(after).filter((k) => before?.[k] !== after[k]).map((k) => names[k] ?? k);
}

export interface CurrentDefinition extends DatasetDefinition {
  /** When this definition became current (null: a change dualrun has not recorded yet: nothing before now counts). */
  readonly since: Date | null;
  /** What changed at `since` (or now), for refusals. */
  readonly changed: readonly string[];
}

/**
 * The current definition and since when it holds. With `record`, a change seen
 * for the first time is appended to the history (so `since` is now).
 */
export async function currentDefinition(db: Pool | PoolClient, ds: DatasetConfig, opts: { record: string | null }): Promise<CurrentDefinition> {
  const def = datasetDefinition(ds);
  if (opts.record) await recordDefinition(db, ds.name, def, opts.record);
  const r = await db.query<{ fingerprint: string; since: Date | null; parts: Record<string, string> | null; before: Record<string, string> | null }>(
    `WITH last AS (SELECT fingerprint, parts FROM dualrun.dataset_definitions WHERE dataset = $1 ORDER BY id DESC LIMIT 1),
          other AS (SELECT max(id) AS id FROM dualrun.dataset_definitions WHERE dataset = $1 AND fingerprint <> $2)
     SELECT (SELECT fingerprint FROM last) AS fingerprint, (SELECT parts FROM last) AS parts,
            (SELECT min(seen_at) FROM dualrun.dataset_definitions d WHERE d.dataset = $1 AND d.id > coalesce((SELECT id FROM other), 0)) AS since,
            (SELECT parts FROM dualrun.dataset_definitions WHERE id = (SELECT id FROM other)) AS before`,
    [ds.name, def.fingerprint]);
  const row = r.rows[0];
  if (row.fingerprint !== def.fingerprint) return { ...def, since: null, changed: row.parts ? changedParts(row.parts, def.parts) : [] };
  return { ...def, since: row.since, changed: row.before ? changedParts(row.before, def.parts) : [] };
}

/** Appends the definition unless it is already the newest one recorded. */
export async function recordDefinition(db: Pool | PoolClient, dataset: string, def: DatasetDefinition, seenBy: string): Promise<void> {
  await db.query(
    `INSERT INTO dualrun.dataset_definitions (dataset, fingerprint, parts, seen_by)
     SELECT $1, $2, $3, $4
     WHERE (SELECT fingerprint FROM dualrun.dataset_definitions WHERE dataset = $1 ORDER BY id DESC LIMIT 1) IS DISTINCT FROM $2`,
    [dataset, def.fingerprint, JSON.stringify(def.parts), seenBy]);
}

function shapingConfig(ds: DatasetConfig): unknown {
  const { database: _bd, sourceUrl: _su, schedule: _bs, query: _q, transform: _bt, ...batch } = ds.batch;
  const { database: _sd, transform: _st, schema: _ss, ...stream } = ds.stream;
  const { settleMs: _s, schedule: _rs, buckets: _b, ...reconcile } = ds.reconcile;
  // Which database each side lives in (not how to log in): the same table name in another database is another table.
  // Only present when one is set, so a dataset in the toolkit database keeps the fingerprint it had.
  const databases = { batch: databaseIdentity(ds.batch.database), source: databaseIdentity(ds.batch.sourceUrl), stream: databaseIdentity(ds.stream.database) };
  const elsewhere = Object.values(databases).some((d) => d !== null);
  return { key: ds.key, window: ds.window, batch, stream, reconcile, ...(elsewhere ? { databases } : {}) };
}

/**
 * A connection string without what does not choose the data: host(s), port, database,
 * user and `options` (a search_path there changes what a name resolves to); never the
 * password, TLS files or timeouts, so rotating a password keeps the evidence.
 */
export function databaseIdentity(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    const q = u.searchParams;
    return JSON.stringify([decodeURIComponent(u.hostname) || q.get('host') || 'localhost', u.port || q.get('port') || '5432',
      decodeURIComponent(u.pathname.replace(/^\//, '')) || q.get('dbname') || '', decodeURIComponent(u.username) || q.get('user') || '', q.get('options') ?? '']);
  } catch {
    // key=value form: everything but secrets, in a stable order.
    const kept = url.trim().split(/\s+(?=[a-z_]+\s*=)/i).map((p) => p.trim()).filter((p) => !/^(password|passfile|sslpassword|sslkey|sslcert|sslrootcert|connect_timeout|application_name|sslmode)\s*=/i.test(p));
    return JSON.stringify(kept.sort());
  }
}

function sha(text: string | Buffer): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function fileHash(file: string | null, followImports: boolean): string {
  if (!file) return 'none';
  const h = crypto.createHash('sha256');
  const seen = new Set<string>();
  const visit = (f: string, rel: string): void => {
    if (seen.has(f) || seen.size > 64) return;
    seen.add(f);
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch { h.update(`${rel}\0missing\0`); return; }
    h.update(`${rel}\0${text}\0`);
    if (!followImports) return;
    for (const spec of localImports(text)) {
      const target = resolveLocal(path.resolve(path.dirname(f), spec));
      if (target) visit(target, path.relative(path.dirname(file), target));
    }
    // A package upgrade changes what the transform does as surely as an edit of its own file.
    for (const name of packageImports(text)) h.update(`package\0${name}@${packageVersion(path.dirname(f), name)}\0`);
  };
  visit(file, path.basename(file));
  return h.digest('hex');
}

/** Relative import specifiers (static, dynamic, re-exports): a transform's own helpers. */
function localImports(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.\.?\/[^'"]+)['"]/g)) out.push(m[1]);
  return out.sort();
}

/** Packages imported by bare specifier (import, dynamic import, re-export, require), by package name; Node's own modules left out. */
function packageImports(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/g)) {
    const spec = m[1];
    if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0])) continue;
    names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
  return [...names].sort();
}

/** The version of the package `name` that a file in `dir` would load (node_modules, looked up from `dir` upwards); 'unresolved' when none is found. */
function packageVersion(dir: string, name: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(d, 'node_modules', name, 'package.json'), 'utf8')) as { version?: unknown };
      return String(pkg.version ?? 'no-version');
    } catch { /* not here: look further up */ }
    if (path.dirname(d) === d) return 'unresolved';
  }
}

function resolveLocal(p: string): string | null {
  for (const c of [p, ...['.ts', '.mts', '.js', '.mjs', '.cjs'].map((e) => p + e), p.replace(/\.js$/, '.ts')]) {
    try { if (fs.statSync(c).isFile()) return c; } catch { /* try the next */ }
  }
  return null;
}

/** For workers that start a path (stream, capture): record each dataset's definition as they start using it. */
export async function recordDefinitions(db: Pool | PoolClient, datasets: readonly DatasetConfig[], seenBy: string): Promise<void> {
  for (const ds of datasets) await recordDefinition(db, ds.name, datasetDefinition(ds), seenBy);
}
