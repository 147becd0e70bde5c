/**
 * The serving view `cutover.serve`: what readers query. It always has the batch
 * output's column list (names, order and types), whichever side it reads, so the
 * stream side's extra `_dr_*` metadata columns never reach readers and
 * `CREATE OR REPLACE VIEW` keeps working across switches. If the batch output's
 * own columns changed since the view was made, the view is dropped and created
 * instead. Either way it happens inside the caller's transaction: readers block
 * on the view's lock for that instant and then see the new side, never a missing
 * or half-switched view.
 */
import type { PoolClient } from '../db/connect.ts';
import type { DatasetConfig, DualrunConfig } from '../config/types.ts';
import type { TableRef } from '../identifiers.ts';
import { quoteIdent, quoteLiteral } from '../identifiers.ts';
import { DualrunError } from '../errors.ts';
import { configMistake } from '../config/config-mistake.ts';
import { missingTableHint } from '../db/missing-table-hint.ts';
import { embedExpression, notOneExpression } from '../db/expression-type.ts';
import { servedSide, type Stage } from '../stages.ts';
import { describeServedType, type ServedType } from './served-type.ts';
import { servedCastSql, Unservable } from './served-casts.ts';
import { readersLosingAccess, readViewKeep, restoreViewKeep, viewOptionsClause, type ViewKeep } from './view-keep.ts';

/** How dualrun's own note on a serving view begins (and how views made before dualrun.serving_views are known). */
const MARKER = 'managed by dualrun';

export interface ServingTarget {
  readonly side: 'batch' | 'stream';
  readonly table: TableRef;
  /** null: the toolkit database. */
  readonly database: string | null;
}

export function servingTarget(ds: DatasetConfig, stage: Stage): ServingTarget {
  const side = servedSide(stage);
  const out = side === 'batch' ? ds.batch : ds.stream;
  return { side, table: out.output, database: out.database };
}

/** A view can only select from tables in its own database: refuse a config that asks otherwise. */
export function assertServeable(config: DualrunConfig, ds: DatasetConfig): void {
  if (!ds.cutover.serve) return;
  for (const side of ['batch', 'stream'] as const) {
    const db = ds[side].database;
    if (db !== null && db !== config.database.url) {
      throw new DualrunError('DUALRUN_CONFIG_INVALID',
        `datasets.${ds.name}.cutover.serve: the serving view ${ds.cutover.serve.text} lives in the toolkit database and can only select from tables there, ` +
        `but ${side}.output ${ds[side].output.text} is in datasets.${ds.name}.${side}.database; ` +
        `remove cutover.serve (applications then pick the table with readServing()) or keep both outputs in the toolkit database`,
        { details: { dataset: ds.name } });
    }
  }
}

interface Column { name: string; type: string; desc: ServedType }

async function columnsOf(c: PoolClient, t: TableRef): Promise<Column[] | null> {
  const r = await c.query<{ exists: boolean; name: string | null; typid: number | null; typmod: number | null }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists, a.attname::text AS name, a.atttypid::int AS typid, a.atttypmod AS typmod
     FROM (SELECT 1) one LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`, [t.sql]);
  if (!r.rows[0].exists) return null;
  const cols: Column[] = [];
  for (const x of r.rows) {
    if (x.name === null) continue;
    const desc = await describeServedType(c, x.typid!, x.typmod!);
    cols.push({ name: x.name, type: desc.type, desc });
  }
  return cols;
}

function refuse(ds: DatasetConfig, message: string): DualrunError {
  return new DualrunError('DUALRUN_SERVE_REFUSED', `${ds.name}: ${message}`, { details: { dataset: ds.name } });
}

/** Refused, naming the column, rather than serving readers a value the reconciler did not compare. */
function servedCast(ds: DatasetConfig, column: string, ref: string, s: ServedType, b: ServedType): string {
  try {
    return servedCastSql(ref, s, b, ds.window?.timezone ?? 'UTC');
  } catch (e) {
    if (!(e instanceof Unservable)) throw e;
    throw refuse(ds, `column ${column}: the stream output's ${s.type} cannot be served as the batch output's ${b.type} with the values the reconciler compared (${e.message}); ` +
      'give the stream output the batch column\'s type, or serve from the batch side');
  }
}

/**
 * An output the config names that is not there: a config mistake (exit 2) naming the file, the
 * field and the nearest existing table, whether misspelt or not created yet. Outputs are created
 * by `dualrun migrate`, not by running a path (the batch path refuses a missing output the same
 * way), so "run the batch path first" (exit 1) was advice that could not work.
 */
async function missingOutput(c: PoolClient, config: DualrunConfig, ds: DatasetConfig, side: 'batch' | 'stream'): Promise<DualrunError> {
  const table = ds[side].output;
  const what = `table ${table.text} does not exist${await missingTableHint(c, table)}, so the serving view ${ds.cutover.serve?.text ?? ''} cannot select from it`;
  return configMistake(config.path, [{ at: `datasets.${ds.name}.${side}.output`, message: `${what}; correct the name, or create it (dualrun migrate creates missing outputs)` }],
    { dataset: ds.name, table: table.text });
}

/**
 * The result type of a stream-side reconcile.expressions entry, planned (never run: LIMIT 0) over
 * the stream output, so it is cast to the batch type by the same rules as a column: a plain `::`
 * served a float expression under a numeric with 15 digits, a timestamptz one in the reader's zone.
 */
async function expressionServedType(c: PoolClient, ds: DatasetConfig, expr: string): Promise<ServedType> {
  const res = await c.query({ text: `SELECT ${embedExpression(expr)} AS v FROM ${ds.stream.output.sql} LIMIT 0`, queryMode: 'extended' } as { text: string });
  return describeServedType(c, res.fields[0].dataTypeID, res.fields[0].dataTypeModifier);
}

/** The SELECT the view runs for a stage. */
async function viewQuery(c: PoolClient, config: DualrunConfig, ds: DatasetConfig, stage: Stage): Promise<string> {
  const batchCols = await columnsOf(c, ds.batch.output);
  if (!batchCols) throw await missingOutput(c, config, ds, 'batch');
  const target = servingTarget(ds, stage);
  if (target.side === 'batch') return `SELECT ${batchCols.map((b) => quoteIdent(b.name)).join(', ')} FROM ${ds.batch.output.sql}`;

  const streamCols = await columnsOf(c, ds.stream.output);
  if (!streamCols) throw await missingOutput(c, config, ds, 'stream');
  const byName = new Map(streamCols.map((s) => [s.name, s]));
  // reconcile.map: a renamed column is served under its batch name.
  const streamName = (b: string) => ds.reconcile.map[b] ?? b;
  // reconcile.expressions: the reconciler compared the stream expression, not a stream column of that name: serve what was compared.
  const streamExpr = (b: string) => ds.reconcile.expressions[b]?.stream;
  const missing = batchCols.filter((b) => streamExpr(b.name) === undefined && !byName.has(streamName(b.name))).map((b) => streamName(b.name));
  if (missing.length) throw refuse(ds, `stream output ${ds.stream.output.text} lacks column(s) ${missing.join(', ')} of the batch output, so it cannot stand in for it`);
  // Same names and types as the batch side, so readers see one stable shape.
  const select = await Promise.all(batchCols.map(async (b) => {
    const expr = streamExpr(b.name);
    if (expr !== undefined) {
      const why = notOneExpression(expr);
      if (why) throw refuse(ds, `reconcile.expressions.${b.name}.stream: ${why}`);
      return `${servedCast(ds, b.name, embedExpression(expr), await expressionServedType(c, ds, expr), b.desc)} AS ${quoteIdent(b.name)}`;
    }
    const s = streamName(b.name);
    if (byName.get(s)!.type !== b.type) return `${servedCast(ds, b.name, quoteIdent(s), byName.get(s)!.desc, b.desc)} AS ${quoteIdent(b.name)}`;
    return s === b.name ? quoteIdent(b.name) : `${quoteIdent(s)} AS ${quoteIdent(b.name)}`;
  }));
  return `SELECT ${select.join(', ')} FROM ${ds.stream.output.sql}`;
}

/**
 * DROP + CREATE loses the view's options, owner and grants: they are put back (view-keep.ts).
 * Triggers or rules on the view would be lost silently: refused instead.
 */
async function recreateKeeping(c: PoolClient, ds: DatasetConfig, view: TableRef, query: string, keep: ViewKeep | null): Promise<void> {
  if (keep?.attached.length) {
    throw refuse(ds, `the batch output's columns changed, so ${view.text} must be dropped and re-created, but that would drop its ${keep.attached.join(', ')}; drop them (and re-create them after the change), then retry`);
  }
  await c.query(`DROP VIEW ${view.sql}`);
  await c.query(`CREATE VIEW ${view.sql}${viewOptionsClause(keep)} AS ${query}`);
  if (keep) await restoreViewKeep(c, view, keep);
}

/**
 * Points the serving view at the stage's side; returns the table served (null: no view configured).
 * Readers of a `security_invoker` view who cannot read the new side are refused, or with `warn`
 * (a rollback, never refused) said.
 */
export async function pointServingView(c: PoolClient, config: DualrunConfig, ds: DatasetConfig, stage: Stage, note: string, warn?: (message: string) => void): Promise<string | null> {
  const serve = ds.cutover.serve;
  if (!serve) return null;
  assertServeable(config, ds);
  const existing = await c.query<{ relkind: string | null; note: string | null; ours: boolean | null }>(
    `SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)) AS relkind, obj_description(to_regclass($1), 'pg_class') AS note,
            (SELECT view_oid = to_regclass($1)::oid FROM dualrun.serving_views WHERE view_name = $1) AS ours`, [serve.sql]);
  const { relkind: kind, note: comment, ours } = existing.rows[0];
  if (kind !== null && kind !== 'v') throw refuse(ds, `${serve.text} exists and is not a view; dualrun will not replace a table (rename it, or choose another cutover.serve)`);
  // Never replace what dualrun did not create: its views are recorded by oid (views made
  // before dualrun.serving_views, and never recorded, carry dualrun's comment instead).
  if (kind === 'v' && !(ours ?? comment?.startsWith(MARKER) ?? false)) {
    throw refuse(ds, `${serve.text} is an existing view that dualrun did not create; dualrun will not replace it (drop or rename it yourself, or choose another cutover.serve)`);
  }
  // A comment someone wrote on the view is theirs: kept, never replaced by dualrun's note.
  const userComment = comment !== null && !comment.startsWith(MARKER) ? comment : null;
  const query = await viewQuery(c, config, ds, stage);
  const keep = kind === 'v' ? await readViewKeep(c, serve) : null;
  const target = servingTarget(ds, stage).table;
  const locked = await readersLosingAccess(c, keep, target);
  if (locked.length) {
    const what = `${serve.text} is security_invoker, so its readers need SELECT on ${target.text}, which ${locked.join(', ')} lack(s): they could not read it after the switch`;
    if (!warn) throw refuse(ds, `${what}; GRANT SELECT ON ${target.text} TO them first, then retry`);
    warn(`${what}; GRANT SELECT ON ${target.text} TO them`);
  }

  const ns = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [serve.schema]);
  if (ns.rowCount === 0) await c.query(`CREATE SCHEMA ${quoteIdent(serve.schema)}`);
  await c.query('SAVEPOINT dualrun_serve');
  try {
    await c.query(`CREATE OR REPLACE VIEW ${serve.sql}${viewOptionsClause(keep)} AS ${query}`);
  } catch (e) {
    // 42P16: the column list changed (the batch output's columns changed since the view was made).
    if ((e as { code?: string }).code !== '42P16') throw e;
    await c.query('ROLLBACK TO SAVEPOINT dualrun_serve');
    await recreateKeeping(c, ds, serve, query, keep).catch((e2: { code?: string; detail?: string }) => {
      if (e2.code !== '2BP01') throw e2;
      throw refuse(ds, `the batch output's columns changed, so ${serve.text} must be dropped and re-created, but other objects depend on it (${e2.detail ?? 'see pg_depend'}); drop or adjust them, then retry`);
    });
  }
  await c.query('RELEASE SAVEPOINT dualrun_serve');
  // Re-created, the view lost its comment: the user's goes back; else dualrun says what it serves.
  await c.query(`COMMENT ON VIEW ${serve.sql} IS ${quoteLiteral(userComment ?? `${MARKER} (dataset ${ds.name}): ${note}`)}`);
  await c.query(
    `INSERT INTO dualrun.serving_views (view_name, view_oid, dataset) VALUES ($1, to_regclass($1)::oid, $2)
     ON CONFLICT (view_name) DO UPDATE SET view_oid = EXCLUDED.view_oid, dataset = EXCLUDED.dataset, updated_at = now()`, [serve.sql, ds.name]);
  return target.text;
}
