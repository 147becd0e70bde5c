/** What a page pipe works with: the source cursor's connection and the target transaction. */
import type { PoolClient } from '../src/core/db/connect.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import type { BoundQuery } from './batch-query.ts';
import type { OutputColumn } from './output-columns.ts';

export interface PageContext {
  readonly source: PoolClient;
  readonly target: PoolClient;
  readonly output: TableRef;
  readonly cols: Map<string, OutputColumn>;
  readonly query: BoundQuery;
  readonly pageRows: number;
}

/** Fails on query/transform columns the output lacks, naming them. */
export function checkColumns(ctx: PageContext, names: readonly string[]): void {
  const unknown = names.filter((n) => !ctx.cols.has(n));
  if (unknown.length > 0) throw new Error(`column ${unknown.map((n) => JSON.stringify(n)).join(', ')} of the batch rows is not a column of ${ctx.output.text}`);
}

export const identity = (v: string) => v;
/** Every value stays Postgres text: no parsing in Node, no precision loss. */
export const ALL_TEXT = { getTypeParser: () => identity };
