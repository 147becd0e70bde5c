/**
 * What `dualrun add <dataset> --from-table schema.table` writes, derived from
 * the source table's catalog: a dualrun.yaml entry (the key from the primary
 * key, a date/time column as window candidate, outputs beside the source), the
 * batch query for one window, an identity stream transform, and a JSON Schema
 * for the change records. Pure: the command decides where and whether to write.
 */
import { DualrunError } from '../errors.ts';
import { quoteIdent, tableRef, type TableRef } from '../identifiers.ts';

const isIdentifier = (s: string) => /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(s);
import type { CatalogColumn, TableCatalog } from '../db/table-catalog.ts';
import { recordSchema } from './record-schema.ts';
import { WINDOW_COLUMN_TYPES, windowColumnProblem } from '../window-column-rule.ts';

export interface ScaffoldOptions {
  dataset: string;
  key?: string[];
  /** A column name, `false` for a whole-table dataset, undefined to pick a candidate. */
  window?: string | false;
  grain: 'day' | 'hour';
  outputSchema?: string;
}

export interface DatasetScaffold {
  /** The dataset entry for dualrun.yaml (plain data; comments are in `comments`). */
  entry: Record<string, unknown>;
  /** Line comments per path inside the entry, e.g. `key` or `batch.output`. */
  comments: Record<string, string>;
  /** Relative path -> contents. */
  files: Record<string, string>;
  outputs: { batch: TableRef; stream: TableRef; serve: TableRef };
  windowCandidates: string[];
}

/** Columns whose name says they are set once, at insert: windows on them stay put. */
const STABLE_TIME_NAME = /(created|inserted|placed|ordered|opened|booked|signup|registered|event|_date$|_day$|^date$|^day$)/i;

export function windowCandidates(cat: TableCatalog): string[] {
  const times = cat.columns.filter((c) => WINDOW_COLUMN_TYPES.has(c.base));
  return [...times.filter((c) => STABLE_TIME_NAME.test(c.name)), ...times.filter((c) => !STABLE_TIME_NAME.test(c.name))].map((c) => c.name);
}

export function scaffoldDataset(cat: TableCatalog, o: ScaffoldOptions): DatasetScaffold {
  const name = o.dataset;
  const usage = (msg: string): never => { throw new DualrunError('DUALRUN_USAGE', msg); };
  const odd = cat.columns.filter((c) => !isIdentifier(c.name)).map((c) => JSON.stringify(c.name));
  if (odd.length > 0) usage(`${cat.table.text}: column ${odd.join(', ')} is not a name dualrun can use (letters, digits, _ and $, not starting with a digit); expose the table through a view that renames it and add that instead`);
  const column = (c: string): CatalogColumn => cat.columns.find((x) => x.name === c) ?? usage(`${cat.table.text} has no column ${JSON.stringify(c)} (columns: ${cat.columns.map((x) => x.name).join(', ')})`);
  const key = o.key ?? cat.key ?? usage(`${cat.table.text} has no primary key (nor a unique index over NOT NULL columns): name the key with --key col1,col2`);
  key.forEach(column);
  // A date cannot be cut into hours (the reconciler refuses it): not a candidate for hour windows.
  const candidates = windowCandidates(cat).filter((c) => windowColumnProblem(column(c).base, o.grain) === null);
  const windowCol = o.window === false ? null : o.window !== undefined ? column(o.window).name : candidates[0] ?? null;
  const problem = windowCol ? windowColumnProblem(column(windowCol).base, o.grain) : null;
  if (problem === 'not-a-time') usage(`--window-column ${windowCol} is ${column(windowCol!).type}; expected a date, timestamp or timestamptz column`);
  if (problem === 'date-in-hours') usage(`--window-column ${windowCol} is a date: it cannot be cut into hour windows; use --grain day, or a timestamp column`);
  const schema = o.outputSchema ?? cat.table.schema;
  const outputs = { batch: tableRef(schema, `${name}_batch`), stream: tableRef(schema, `${name}_stream`), serve: tableRef(schema, `${name}_serving`) };
  const files = {
    [`sql/${name}_batch.sql`]: batchQuery(cat, windowCol, outputs.batch),
    [`transforms/${name}.ts`]: identityTransform(name, cat),
    [`schemas/${name}.json`]: `${JSON.stringify(recordSchema(cat, name), null, 2)}\n`,
  };
  const entry: Record<string, unknown> = {
    key,
    ...(windowCol ? { window: { column: windowCol, grain: o.grain } } : {}),
    batch: { output: outputs.batch.text, query: `sql/${name}_batch.sql`, schedule: '0 2 * * *' },
    stream: { output: outputs.stream.text, source: { table: cat.table.text }, transform: `transforms/${name}.ts`, schema: `schemas/${name}.json` },
    reconcile: { settle: '15m', schedule: '30 3 * * *' },
    cutover: { serve: outputs.serve.text, promoteAfter: 7, retireAfter: 7, maxEvidenceAge: '48h' },
  };
  const others = candidates.filter((c) => c !== windowCol);
  const comments: Record<string, string> = {
    key: cat.key && !o.key ? `primary key of ${cat.table.text}` : 'identifies a row on both sides',
    window: `${column(windowCol ?? key[0]).type}; pick a column set once at insert${others.length ? ` (other candidates: ${others.join(', ')})` : ''}`,
    'batch.output': 'created by `dualrun migrate` in the shape of the source',
    'batch.query': 'managed: dualrun runs this SELECT per window',
    'batch.schedule': 'node-cron, used by `dualrun schedule`',
    'stream.output': 'created by `dualrun migrate` (with the sink\'s _dr_* columns)',
    'stream.source': 'built-in change capture: `dualrun capture`',
    'stream.transform': 'identity; reshape rows here',
    'stream.schema': 'JSON Schema for incoming records (from the column types)',
    'reconcile.settle': 'wait this long past a window\'s end for late events',
    'cutover.serve': 'the view readers use; re-pointed on every stage change',
    'cutover.promoteAfter': 'clean nights needed before serving from the stream',
  };
  if (!windowCol) delete comments.window;
  return { entry, comments, files, outputs, windowCandidates: candidates };
}

function batchQuery(cat: TableCatalog, windowCol: string | null, output: TableRef): string {
  const cols = cat.columns.map((c) => quoteIdent(c.name)).join(', ');
  const where = windowCol ? `\nWHERE ${quoteIdent(windowCol)} >= :window_start AND ${quoteIdent(windowCol)} < :window_end` : '';
  return [
    `-- Managed legacy batch for one ${windowCol ? 'window' : 'run (whole table)'} of ${cat.table.text}, written by \`dualrun add\`.`,
    ...(windowCol ? ['-- :window_start and :window_end are bound as parameters (never spliced).'] : []),
    `-- The SELECT's columns must match ${output.text}; replace it with your legacy job's logic.`,
    `SELECT ${cols}`,
    `FROM ${cat.table.sql}${where}`,
    '',
  ].join('\n');
}

function identityTransform(name: string, cat: TableCatalog): string {
  return [
    `// Streaming transform for ${name}: receives one validated row image of ${cat.table.text} and returns`,
    '// the row to upsert into the stream output (or null to drop it, or an array of rows).',
    '// Throwing sends the record to dead letters with the error as its reason.',
    '// Written by `dualrun add` as the identity: the stream output has the source\'s columns.',
    'export default function transform(row: Record<string, unknown>): Record<string, unknown> {',
    '  return row;',
    '}',
    '',
  ].join('\n');
}
