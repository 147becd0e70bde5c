/**
 * `dualrun migrate` creates the outputs a dataset needs and does not have yet,
 * in the shape of what fills them: a managed batch query's result columns for
 * the batch output (without a batch.transform), else the source table
 * (`stream.source.table`), else the other output: the same columns and types, the dataset key as primary key, and on
 * the stream output the sink's bookkeeping columns. Existing tables are never
 * altered: each is only checked for the columns the config names (key, window,
 * reconcile.columns, reconcile.map, stream.watermark.column), a window column that
 * is not a date/time (or a date in hour windows) and key/window columns of
 * different kinds on the two sides are reported too, and reconcile.ignore and
 * reconcile.tolerance names that neither output has (each silently did nothing).
 */
import path from 'node:path';
import type { DatasetConfig, Grain } from '../../core/config/types.ts';
import { didYouMean } from '../../core/nearest-name.ts';
import type { Runtime } from '../../core/runtime.ts';
import { quoteIdent, type TableRef } from '../../core/identifiers.ts';
import { inTransaction, type Pool } from '../../core/db/connect.ts';
import { caseHint, readTableCatalog, type CatalogColumn, type TableCatalog } from '../../core/db/table-catalog.ts';
import { queryColumns } from './query-shape.ts';
import { planExpression } from '../../core/db/expression-type.ts';
import { windowColumnProblem } from '../../core/window-column-rule.ts';

export type Side = 'batch' | 'stream';

export interface OutputAction {
  dataset: string;
  side: Side;
  table: string;
  action: 'created' | 'exists' | 'skipped';
  /** created: the columns, with types, and where the shape came from. */
  columns?: string[];
  from?: string;
  reason?: string;
}

/** `whole`: the differences are the whole message (not columns the table lacks). */
export interface OutputMismatch { dataset: string; side: Side; table: string; at: string; differences: string[]; whole?: boolean }

export interface OutputsResult { outputs: OutputAction[]; mismatches: OutputMismatch[] }

/** The stream sink's bookkeeping columns (streaming/output-table.ts adds any others it needs itself). */
const STREAM_BOOKKEEPING: readonly [string, string][] = [['_dr_version', 'bigint'], ['_dr_source_ts', 'timestamp with time zone']];

export async function ensureDatasetOutputs(rt: Runtime): Promise<OutputsResult> {
  const result: OutputsResult = { outputs: [], mismatches: [] };
  for (const ds of Object.values(rt.config.datasets)) await ensureOne(rt, ds, result);
  return result;
}

interface Sides { batch: { pool: Pool; table: TableRef; cat: TableCatalog | null }; stream: { pool: Pool; table: TableRef; cat: TableCatalog | null } }

async function ensureOne(rt: Runtime, ds: DatasetConfig, result: OutputsResult): Promise<void> {
  const db = await rt.db();
  const src = ds.stream.source?.kind === 'table' ? ds.stream.source.table : null;
  const source = src ? await readTableCatalog(db, src) : null;
  const [bp, sp] = await Promise.all([rt.pool(ds.batch.database), rt.pool(ds.stream.database)]);
  const sides: Sides = {
    batch: { pool: bp, table: ds.batch.output, cat: await readTableCatalog(bp, ds.batch.output) },
    stream: { pool: sp, table: ds.stream.output, cat: await readTableCatalog(sp, ds.stream.output) },
  };
  for (const side of ['batch', 'stream'] as const) {
    const s = sides[side];
    if (s.cat) { result.outputs.push({ dataset: ds.name, side, table: s.table.text, action: 'exists' }); continue; }
    if (side === 'stream' && ds.stream.adopted) {
      result.outputs.push({ dataset: ds.name, side, table: s.table.text, action: 'skipped', reason: 'adopted: the external pipeline that writes it owns its definition' });
      continue;
    }
    // `sales.orders_nightly` for a legacy "Sales".orders_nightly: creating it would leave an empty
    // look-alike that adopt and reconcile then read instead of the legacy job's table.
    const hint = await caseHint(s.pool, s.table);
    if (hint) {
      result.outputs.push({ dataset: ds.name, side, table: s.table.text, action: 'skipped', reason: `not created: it differs only in case from an existing table${hint}; correct datasets.${ds.name}.${side}.output` });
      result.mismatches.push({ dataset: ds.name, side, table: s.table.text, at: `datasets.${ds.name}.${side}.output`, differences: [`${s.table.text} does not exist${hint}; migrate did not create it`], whole: true });
      continue;
    }
    const other = sides[side === 'batch' ? 'stream' : 'batch'].cat;
    const query = side === 'batch' ? await managedQueryShape(rt, ds) : null;
    const template = query ?? (source ? { cols: source.columns, from: source.table.text, naming: 'batch' as Side } : other ? { cols: other.columns, from: other.table.text, naming: side === 'batch' ? 'stream' as Side : 'batch' as Side } : null);
    if (!template) {
      const why = src ? `source table ${src.text} not found` : 'no source table (stream.source.table) and no other output';
      result.outputs.push({ dataset: ds.name, side, table: s.table.text, action: 'skipped', reason: `cannot take its shape from anything: ${why}; create it yourself` });
      continue;
    }
    result.outputs.push(await createOutput(ds, side, s.pool, s.table, renamed(ds, template.cols.filter((c) => !c.name.startsWith('_dr_')), template.naming, side), template.from));
    s.cat = await readTableCatalog(s.pool, s.table);
  }
  result.mismatches.push(...shapeMismatches(ds, sides), ...(await expressionProblems(ds, sides)));
}

/** reconcile.expressions planned on each existing output now, so a bad one fails the deploy, not the night. */
async function expressionProblems(ds: DatasetConfig, sides: Sides): Promise<OutputMismatch[]> {
  const out: OutputMismatch[] = [];
  for (const [col, e] of Object.entries(ds.reconcile.expressions)) {
    for (const side of ['batch', 'stream'] as const) {
      const expr = e[side];
      const s = sides[side];
      if (expr === undefined || !s.cat) continue;
      const r = await planExpression(s.pool, s.table, expr);
      if (!r.ok) out.push({ dataset: ds.name, side, table: s.table.text, at: `datasets.${ds.name}.reconcile.expressions.${col}.${side}`, differences: [r.why], whole: true });
    }
  }
  return out;
}

/** A managed batch without a row transform loads exactly what its query selects: that is the batch output's shape. */
async function managedQueryShape(rt: Runtime, ds: DatasetConfig): Promise<{ cols: CatalogColumn[]; from: string; naming: Side } | null> {
  if (!ds.batch.query || ds.batch.transform) return null;
  try {
    const cols = await queryColumns(await rt.pool(ds.batch.sourceUrl ?? ds.batch.database), ds.batch.query);
    return { cols, from: `batch.query ${path.basename(ds.batch.query)}`, naming: 'batch' };
  } catch (e) {
    rt.log.info({ dataset: ds.name, err: e }, 'batch.query cannot be planned yet; the batch output shape comes from the source table instead');
    return null;
  }
}

/** Columns of a template named for one side, renamed (reconcile.map) for the other. */
function renamed(ds: DatasetConfig, cols: readonly CatalogColumn[], from: Side, to: Side): CatalogColumn[] {
  if (from === to) return [...cols];
  const map = Object.entries(ds.reconcile.map);
  const rename = new Map(from === 'batch' ? map : map.map(([b, s]) => [s, b]));
  return cols.map((c) => ({ ...c, name: rename.get(c.name) ?? c.name }));
}

async function createOutput(ds: DatasetConfig, side: Side, pool: Pool, table: TableRef, cols: CatalogColumn[], from: string): Promise<OutputAction> {
  const key = side === 'stream' ? ds.key.map((k) => ds.reconcile.map[k] ?? k) : [...ds.key];
  const base: OutputAction = { dataset: ds.name, side, table: table.text, action: 'skipped' };
  const missingKey = key.filter((k) => !cols.some((c) => c.name === k));
  if (missingKey.length > 0) return { ...base, reason: `${from} has no key column ${missingKey.join(', ')}; create it yourself` };
  const odd = cols.filter((c) => !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(c.name)).map((c) => JSON.stringify(c.name));
  if (odd.length > 0) return { ...base, reason: `${from} has column ${odd.join(', ')}, not a name dualrun can use; create it yourself` };
  const defs: [string, string][] = cols.map((c) => [c.name, c.type]);
  if (side === 'stream') defs.push(...STREAM_BOOKKEEPING.filter(([n]) => !cols.some((c) => c.name === n)));
  const ddl = `CREATE TABLE ${table.sql} (\n  ${defs.map(([n, t]) => `${quoteIdent(n)} ${t}`).join(',\n  ')},\n  PRIMARY KEY (${key.map(quoteIdent).join(', ')})\n)`;
  try {
    await inTransaction(pool, async (c) => {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(table.schema)}`);
      await c.query(ddl);
    });
  } catch (e) {
    // Created meanwhile by another migrate: it exists, and it is not ours to report as created.
    if ((e as { code?: string }).code === '42P07') return { ...base, action: 'exists' };
    throw e;
  }
  return { ...base, action: 'created', from, columns: defs.map(([n, t]) => `${n} ${t}`) };
}

/**
 * A window column that cannot hold the window's bounds (text, an epoch number; a date in hour
 * windows) fails every reconcile and batch load of the dataset: said at deploy, with the type.
 */
function windowTypeProblem(col: CatalogColumn, grain: Grain): string[] {
  const problem = windowColumnProblem(col.base, grain);
  if (problem === 'not-a-time') return [`window.column ${col.name} is of type ${col.type}: a window column must be a date, timestamp or timestamptz (choose another window.column, or leave out window to compare whole tables)`];
  if (problem === 'date-in-hours') return [`window.column ${col.name} is a date: it cannot be cut into hour windows; use window.grain day, or a timestamp column`];
  return [];
}

/** Columns the config names that an existing output lacks, window columns that are not times, and key/window columns of different kinds. */
function shapeMismatches(ds: DatasetConfig, sides: Sides): OutputMismatch[] {
  const out: OutputMismatch[] = [];
  const expr = (side: Side, c: string) => ds.reconcile.expressions[c]?.[side] !== undefined;
  const onSide = (side: Side, c: string) => (side === 'stream' ? ds.reconcile.map[c] ?? c : c);
  const named = [...ds.key, ...(ds.window ? [ds.window.column] : []), ...(ds.reconcile.columns ?? []), ...Object.keys(ds.reconcile.map)];
  for (const side of ['batch', 'stream'] as const) {
    const cat = sides[side].cat;
    if (!cat) continue;
    const have = new Map(cat.columns.map((c) => [c.name, c]));
    const want = [...new Set(named.filter((c) => !expr(side, c)).map((c) => onSide(side, c)))];
    if (side === 'stream' && ds.stream.watermark?.kind === 'column') want.push(ds.stream.watermark.column);
    const differences = want.filter((c) => !have.has(c)).map((c) => `missing column ${c}`);
    const win = ds.window ? have.get(onSide(side, ds.window.column)) : undefined;
    if (ds.window && win) differences.push(...windowTypeProblem(win, ds.window.grain));
    if (differences.length > 0) out.push({ dataset: ds.name, side, table: cat.table.text, at: `datasets.${ds.name}.${side}.output`, differences });
  }
  const b = sides.batch.cat;
  const s = sides.stream.cat;
  if (b && s) {
    const differences: string[] = [];
    for (const c of [...ds.key, ...(ds.window ? [ds.window.column] : [])]) {
      const bc = b.columns.find((x) => x.name === c);
      const sc = s.columns.find((x) => x.name === onSide('stream', c));
      if (bc && sc && bc.category !== sc.category) differences.push(`${c} is ${bc.type} in ${b.table.text} but ${sc.type} in ${s.table.text}`);
    }
    if (differences.length > 0) out.push({ dataset: ds.name, side: 'stream', table: s.table.text, at: `datasets.${ds.name}.stream.output`, differences });
    out.push(...unknownNames(ds, b, s));
  }
  return out;
}

/**
 * reconcile.ignore and reconcile.tolerance names neither output has: each was a silent no-op (the
 * column still compared, no tolerance applied). The reconciler refuses them too (reconcile/config-columns.ts).
 */
function unknownNames(ds: DatasetConfig, b: TableCatalog, s: TableCatalog): OutputMismatch[] {
  const out: OutputMismatch[] = [];
  const bNames = b.columns.map((c) => c.name);
  const sNames = s.columns.map((c) => c.name);
  const at = (field: string, what: string) => out.push({ dataset: ds.name, side: 'batch', table: b.table.text, at: `datasets.${ds.name}.${field}`, differences: [what], whole: true });
  for (const c of ds.reconcile.ignore) {
    if (bNames.includes(c) || sNames.includes(c) || sNames.includes(ds.reconcile.map[c] ?? c)) continue;
    at('reconcile.ignore', `${c} is a column of neither batch.output ${b.table.text} nor stream.output ${s.table.text}, so nothing is ignored${didYouMean(c, [...bNames, ...sNames])}`);
  }
  const exprs = Object.keys(ds.reconcile.expressions);
  for (const c of Object.keys(ds.reconcile.tolerance)) {
    if (bNames.includes(c) || exprs.includes(c)) continue;
    at('reconcile.tolerance', `${c} is not a column of batch.output ${b.table.text} (tolerances name columns by their batch name), so no tolerance applies${didYouMean(c, [...bNames, ...exprs])}`);
  }
  return out;
}
