/**
 * A JSON Schema for the change records of a table, derived from its column
 * types: what a row image looks like once decoded (capture writes values as
 * `to_jsonb` does: numbers as JSON numbers, 64-bit integers and numerics may
 * arrive as strings from other producers, times as ISO strings, json as is).
 * NOT NULL columns are required; nullable ones also accept null.
 */
import type { CatalogColumn, TableCatalog } from '../db/table-catalog.ts';

type JsonSchema = Record<string, unknown>;

const INTEGER = new Set(['int2', 'int4']);
const WIDE_NUMBER = new Set(['int8', 'numeric', 'money']);
const FLOAT = new Set(['float4', 'float8']);

export function columnSchema(c: CatalogColumn): JsonSchema {
  const typed = (t: string | string[]): JsonSchema => {
    const list = Array.isArray(t) ? t : [t];
    return { type: c.notNull ? (list.length === 1 ? list[0] : list) : [...list, 'null'] };
  };
  if (c.base === 'json' || c.base === 'jsonb') return c.notNull ? { not: { type: 'null' } } : {};
  if (c.category === 'A') return typed('array');
  if (INTEGER.has(c.base)) return typed('integer');
  if (c.base === 'int8') return typed(['integer', 'string']);
  if (WIDE_NUMBER.has(c.base) || FLOAT.has(c.base)) return typed(['number', 'string']);
  if (c.base === 'bool') return typed('boolean');
  const s = typed('string');
  if (c.base === 'uuid') s.format = 'uuid';
  return s;
}

export function recordSchema(cat: TableCatalog, dataset: string): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `${dataset} change record (row image of ${cat.table.text})`,
    description: `Derived by \`dualrun add\` from the column types of ${cat.table.text}; tighten it (enums, ranges) as you learn the data.`,
    type: 'object',
    required: cat.columns.filter((c) => c.notNull).map((c) => c.name),
    properties: Object.fromEntries(cat.columns.map((c) => [c.name, { ...columnSchema(c), description: c.type }])),
  };
}
