/**
 * The managed batch query of a dataset, ready to run for one window: the SQL file
 * with :window_start/:window_end rewritten to $n and the window bound as values.
 */
import fs from 'node:fs';
import { DualrunError } from '../src/core/errors.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { rewriteNamedParams } from './named-params.ts';
import type { WindowScope } from './window-scope.ts';

export interface BoundQuery {
  /** A single SELECT (or WITH … SELECT) with $n placeholders, no trailing semicolon. */
  readonly text: string;
  readonly values: readonly string[];
}

const WINDOW_PARAMS = ['window_start', 'window_end'] as const;

export function bindBatchQuery(ds: DatasetConfig, scope: WindowScope): BoundQuery {
  if (!ds.batch.query) {
    throw new DualrunError('DUALRUN_USAGE', `dataset ${ds.name} has no batch.query: its batch output is written by an external job (record it with \`dualrun batch adopt\`)`);
  }
  let sql: string;
  try {
    sql = fs.readFileSync(ds.batch.query, 'utf8');
  } catch (e) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${ds.name}.batch.query: cannot read ${ds.batch.query}: ${(e as Error).message}`, { cause: e });
  }
  return bindSql(sql, ds, scope, `datasets.${ds.name}.batch.query`);
}

/** Binds any window SQL (the batch query, an adopted job's completion check). */
export function bindSql(sql: string, ds: DatasetConfig, scope: WindowScope, at: string): BoundQuery {
  const { text, names } = rewriteNamedParams(stripTrailingSemicolons(sql), WINDOW_PARAMS);
  if (names.length > 0 && !scope.window) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `${at}: uses :${names[0]} but dataset ${ds.name} has no window (add window: { column: … } or drop the parameter)`);
  }
  const values = names.map((n) => scope.params[WINDOW_PARAMS.indexOf(n as (typeof WINDOW_PARAMS)[number])]);
  return { text, values };
}

// The query is wrapped as a subquery, where a trailing `;` would be a syntax error.
function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/u, '');
}
