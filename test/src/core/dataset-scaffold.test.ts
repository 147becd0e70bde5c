/** The pure part of `dualrun add`: what is derived from a table's catalog. */
import { describe, expect, it } from 'vitest';
import { scaffoldDataset, windowCandidates } from '../../../src/core/scaffold/dataset-scaffold.ts';
import { columnSchema } from '../../../src/core/scaffold/record-schema.ts';
import { tableRef } from '../../../src/core/identifiers.ts';
import type { CatalogColumn, TableCatalog } from '../../../src/core/db/table-catalog.ts';

const col = (name: string, base: string, type = base, notNull = false, category = 'S'): CatalogColumn => ({ name, base, type, notNull, category });

const events: TableCatalog = {
  table: tableRef('app', 'events'), kind: 'r', key: null,
  columns: [col('id', 'int4', 'integer', true, 'N'), col('updated_at', 'timestamptz'), col('created_at', 'timestamptz'), col('payload', 'jsonb'), col('MixedCase', 'text')],
};

describe('dataset scaffold', () => {
  it('prefers a window column set once at insert, and lists the others', () => {
    expect(windowCandidates(events)).toEqual(['created_at', 'updated_at']);
    const s = scaffoldDataset(events, { dataset: 'events', key: ['id'], grain: 'hour' });
    expect(s.entry.window).toEqual({ column: 'created_at', grain: 'hour' });
    expect(s.comments.window).toContain('other candidates: updated_at');
  });

  it('refuses a table without a key unless one is named, and a key or window column that does not exist', () => {
    expect(() => scaffoldDataset(events, { dataset: 'events', grain: 'day' })).toThrow(/--key/);
    expect(() => scaffoldDataset(events, { dataset: 'events', key: ['nope'], grain: 'day' })).toThrow(/has no column "nope"/);
    expect(() => scaffoldDataset(events, { dataset: 'events', key: ['id'], window: 'payload', grain: 'day' })).toThrow(/expected a date, timestamp or timestamptz/);
    // Hour windows on a date read nothing but in the day's last hour (the reconciler refuses them): never scaffolded.
    const dated = { ...events, columns: [col('id', 'int4', 'integer', true, 'N'), col('order_date', 'date'), col('created_at', 'timestamptz')] };
    expect(scaffoldDataset(dated, { dataset: 'events', key: ['id'], grain: 'day' }).entry.window).toEqual({ column: 'order_date', grain: 'day' });
    expect(scaffoldDataset(dated, { dataset: 'events', key: ['id'], grain: 'hour' }).entry.window).toEqual({ column: 'created_at', grain: 'hour' });
    expect(() => scaffoldDataset(dated, { dataset: 'events', key: ['id'], window: 'order_date', grain: 'hour' })).toThrow(/is a date: it cannot be cut into hour windows/);
    const spaced = { ...events, columns: [...events.columns, col('odd name', 'text')] };
    expect(() => scaffoldDataset(spaced, { dataset: 'events', key: ['id'], grain: 'day' })).toThrow(/column "odd name" is not a name dualrun can use/);
  });

  it('quotes every identifier in the batch query; a whole-table dataset has no window parameters', () => {
    const s = scaffoldDataset({ ...events, columns: [...events.columns] }, { dataset: 'events', key: ['id'], window: false, grain: 'day' });
    expect(s.entry.window).toBeUndefined();
    expect(s.files['sql/events_batch.sql']).toContain('SELECT "id", "updated_at", "created_at", "payload", "MixedCase"\nFROM "app"."events"\n');
    expect(s.files['sql/events_batch.sql']).not.toContain(':window_start');
    expect(s.outputs.batch.text).toBe('app.events_batch');
  });

  it('record schema: 64-bit integers and numerics may be strings, json anything, nullable columns accept null', () => {
    expect(columnSchema(col('a', 'int8', 'bigint', true, 'N'))).toEqual({ type: ['integer', 'string'] });
    expect(columnSchema(col('a', 'numeric', 'numeric(12,2)', false, 'N'))).toEqual({ type: ['number', 'string', 'null'] });
    expect(columnSchema(col('a', 'jsonb'))).toEqual({});
    expect(columnSchema(col('a', 'jsonb', 'jsonb', true))).toEqual({ not: { type: 'null' } });
    expect(columnSchema(col('a', 'uuid', 'uuid', true))).toEqual({ type: 'string', format: 'uuid' });
    expect(columnSchema(col('a', '_int4', 'integer[]', true, 'A'))).toEqual({ type: 'array' });
  });
});
