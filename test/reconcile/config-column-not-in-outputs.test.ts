/**
 * Regression: a column name in the config that neither output has was accepted. `reconcile.ignore:
 * [loadedat]` ignored nothing (loaded_at was still compared, and the user believed it excluded), a
 * misspelt `reconcile.tolerance` key applied no tolerance, a `reconcile.map` key or target or a
 * `stream.watermark.column` no table has went unnoticed or failed later; and a misspelt `key`,
 * `window.column` or `reconcile.columns` entry was a runtime failure (exit 3). Each is now a
 * config error (DUALRUN_CONFIG_INVALID, exit 2) before any window, naming the field, the dataset,
 * the name and the nearest existing column. Names are used exactly as written: `Loaded_At` is
 * not `loaded_at`, and the hint says case matters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { tableRef } from '../../src/core/identifiers.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { configColumnProblems } from '../../reconcile/config-columns.ts';
import type { TableShape } from '../../reconcile/table-columns.ts';
import { nearestName } from '../../src/core/nearest-name.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

// loaded_at differs on the two sides: compared, it is a mismatch; ignored, a match.
const TABLES = ['b', 's'].map((t) => `CREATE TABLE cc.${t} (id int PRIMARY KEY, amount numeric(12,2), day date NOT NULL, loaded_at timestamptz${t === 's' ? ', updated_at timestamptz, note text, amount_eur numeric(12,2)' : ''});
  INSERT INTO cc.${t} (id, amount, day, loaded_at${t === 's' ? ', updated_at, amount_eur' : ''}) VALUES (1, 1.25, '2026-11-20', '2026-11-21 0${t === 'b' ? 1 : 2}:00Z'${t === 's' ? ", '2026-11-22Z', 1.25" : ''});`).join('\n');

// An adopted stream output (no stream.source), settled by its watermark column.
const adopted = (n: string, watermark: Record<string, unknown>) => ({
  key: ['id'], window: { column: 'day' }, batch: { output: `cc.b_${n}` }, stream: { output: `cc.s_${n}`, watermark },
  reconcile: { ignore: ['loaded_at', 'updated_at', 'note', 'amount_eur'] },
});
// Each dataset reads its own views of the two tables (two datasets may not share an output).
const ds = (n: string, reconcile: Record<string, unknown>, key = ['id']) =>
  dataset({ key, window: { column: 'day' }, batch: { output: `cc.b_${n}` }, stream: { output: `cc.s_${n}` }, reconcile });
const NAMES = ['ok', 'ignore', 'case', 'tol', 'mapkey', 'maptarget', 'columns', 'key', 'wm', 'wmtext'];
const VIEWS = NAMES.map((n) => `CREATE VIEW cc.b_${n} AS SELECT * FROM cc.b; CREATE VIEW cc.s_${n} AS SELECT * FROM cc.s;`).join('\n');

beforeAll(async () => {
  db = await freshDatabase('ccol');
  await db.pool.query(`CREATE SCHEMA cc; ${TABLES} ${VIEWS}`);
  rt = runtimeFor(db, {
    ignore_ok: ds('ok', { ignore: ['loaded_at', 'updated_at', 'note', 'amount_eur'] }),
    ignore_typo: ds('ignore', { ignore: ['loadedat', 'updated_at', 'note', 'amount_eur'] }),
    ignore_case: ds('case', { ignore: ['Loaded_At', 'updated_at', 'note', 'amount_eur'] }),
    tolerance_typo: ds('tol', { ignore: ['loaded_at', 'updated_at', 'note', 'amount_eur'], tolerance: { amont: 0.01 } }),
    map_key_typo: ds('mapkey', { ignore: ['loaded_at', 'updated_at', 'note'], map: { amont: 'amount_eur' } }),
    map_target_typo: ds('maptarget', { ignore: ['loaded_at', 'updated_at', 'note', 'amount_eur'], map: { amount: 'amount_euro' } }),
    columns_typo: ds('columns', { columns: ['amont'] }),
    key_typo: ds('key', {}, ['idd']),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const judge = async (name: string) => (await reconcileDataset(rt, name, { assumeSettled: true, windows: ['2026-11-20'], samples: 10, store: false }))[0];

describe('a config column name no output has', () => {
  it('ignore naming existing columns (a stream-only one included) still judges: a match', async () => {
    expect((await judge('ignore_ok')).verdict).toBe('match');
  });

  it.each([
    ['ignore_typo', 'datasets.ignore_typo.reconcile.ignore: loadedat is a column of neither batch.output cc.b_ignore nor stream.output cc.s_ignore, so nothing is ignored (did you mean loaded_at?)'],
    ['ignore_case', 'datasets.ignore_case.reconcile.ignore: Loaded_At is a column of neither batch.output cc.b_case nor stream.output cc.s_case, so nothing is ignored (did you mean loaded_at? names are case-sensitive'],
    ['tolerance_typo', 'datasets.tolerance_typo.reconcile.tolerance: amont is not a column of batch.output cc.b_tol (tolerances name columns by their batch name), so no tolerance applies (did you mean amount?)'],
    ['map_key_typo', 'datasets.map_key_typo.reconcile.map: amont is not a column of batch.output cc.b_mapkey (map keys are batch column names) (did you mean amount?)'],
    ['map_target_typo', 'datasets.map_target_typo.reconcile.map.amount: amount_euro is not a column of stream.output cc.s_maptarget (did you mean amount_eur?)'],
    ['columns_typo', 'datasets.columns_typo.reconcile.columns: amont is a column of neither batch.output cc.b_columns nor stream.output cc.s_columns (did you mean amount?)'],
    ['key_typo', 'datasets.key_typo.key: idd is a column of neither batch.output cc.b_key nor stream.output cc.s_key (did you mean id?)'],
  ])('%s is a config error naming the field, the name and the nearest column', async (name, message) => {
    const r = await judge(name);
    expect(r.verdict).toBe('error');
    expect(r.error?.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(r.error?.message).toContain(`invalid config (built-in config): ${message}`);
  });

  it('a stream.watermark.column the adopted output lacks, or of a type without instants, is a config error (it kept every window pending)', async () => {
    const watch = runtimeFor(db, {
      wm_typo: adopted('wm', { column: 'updatedat' }),
      wm_text: adopted('wmtext', { column: 'note' }),
    });
    try {
      const judgeIn = async (name: string) => (await reconcileDataset(watch, name, { windows: ['2026-11-20'], samples: 10, store: false }))[0];
      const typo = await judgeIn('wm_typo');
      expect(typo.verdict).toBe('error');
      expect(typo.error?.code).toBe('DUALRUN_CONFIG_INVALID');
      expect(typo.error?.message).toContain('datasets.wm_typo.stream.watermark.column: updatedat is not a column of stream.output cc.s_wm (did you mean updated_at?)');
      const text = await judgeIn('wm_text');
      expect(text.error?.message).toContain('datasets.wm_text.stream.watermark.column: note of stream.output cc.s_wmtext is of type text; a watermark column must be a timestamp, timestamptz or date');
    } finally {
      await watch.close();
    }
  });
});

const shape = (schema: string, cols: string[]): TableShape => ({
  table: tableRef(schema, 't'), columns: new Map(cols.map((c) => [c, { name: c, type: 'int4' }])), keyUnique: true, notNull: new Set(), indexLeading: new Set(),
});
const NO_EXPRS = { batch: new Map(), stream: new Map() };
const ident = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/);

describe('reconcile.ignore is refused exactly when no output has the name (fast-check)', () => {
  it('accepted iff the name is a batch column, a stream column, or a batch column mapped to a stream one', () => {
    fc.assert(fc.property(fc.uniqueArray(ident, { minLength: 1, maxLength: 6 }), fc.uniqueArray(ident, { minLength: 1, maxLength: 6 }), ident, fc.boolean(), (bCols, sCols, name, mapped) => {
      const batch = shape('b', ['id', ...bCols]);
      const stream = shape('s', ['id', ...sCols]);
      // A mapping from the ignored name to a stream column: the stream side has it under that name.
      const map = mapped && name !== 'id' && sCols[0] !== 'id' && batch.columns.has(name) ? { [name]: sCols[0] } : {};
      const cfg = compileConfig({ database: { url: 'postgres://u@h/d' }, datasets: { d: { key: ['id'], batch: { output: 'b.t' }, stream: { output: 's.t', adopted: true }, reconcile: { ignore: [name], map } } } }, { path: null });
      const problems = configColumnProblems(cfg.datasets.d, batch, stream, NO_EXPRS).filter((p) => p.at.endsWith('.reconcile.ignore'));
      const exists = batch.columns.has(name) || stream.columns.has(name);
      expect(problems.length === 0).toBe(exists);
      if (!exists) expect(problems[0].message).toContain(`${name} is a column of neither`);
    }), { numRuns: 300, seed: 20261202 });
  });

  it('the nearest name: one that differs only in case wins, else the closest within about a third of its length', () => {
    expect(nearestName('Loaded_At', ['loaded_at', 'Loaded_Ay'])).toEqual({ name: 'loaded_at', caseOnly: true });
    expect(nearestName('amont', ['amount', 'id'])).toEqual({ name: 'amount', caseOnly: false });
    expect(nearestName('stauts', ['status'])).toEqual({ name: 'status', caseOnly: false });
    expect(nearestName('xyzzy', ['amount', 'id'])).toBeNull();
  });
});
