/**
 * Builds a peer case (peer-cases.ts) as two tables, `<schema>.b` (batch) and
 * `<schema>.s` (stream), possibly in two databases, and reads the differing
 * keys out of a reconcile result. Shared by the differential probe
 * (scripts/reconcile-vs-reladiff.ts) and its fast test (peer-cases.test.ts).
 */
import type { WindowResult } from '../../reconcile/types.ts';
import type { PeerCase } from './peer-cases.ts';

/** What a case needs of a database connection (pg.Pool or pg.Client). */
export interface Queryable { query(sql: string): Promise<unknown> }

export const typed = (t: string, schema: string) => t.replace(/\$S\./g, `${schema}.`);
export const keyCols = (c: PeerCase) => (c.key2 ? ['k1', 'k2'] : c.key ? ['k'] : ['id']);

async function tryQuery(db: Queryable, sql: string): Promise<string | null> {
  try { await db.query(sql); return null; } catch (e) { return (e as Error).message; }
}

const sideType = (c: PeerCase, side: 'b' | 's', schema: string) => typed(side === 'b' ? c.batchType : c.streamType ?? c.batchType, schema);

function tableSql(c: PeerCase, s: string, side: 'b' | 's'): string {
  const t = sideType(c, side, s);
  const pk = c.noPk ? '' : `, PRIMARY KEY (${keyCols(c).join(', ')})`;
  if (c.key2) return `CREATE TABLE ${s}.${side} (k1 ${c.key2.type1}, k2 ${c.key2.type2}, v text${pk})`;
  if (c.key) return `CREATE TABLE ${s}.${side} (k ${t}, v text${pk})`;
  return `CREATE TABLE ${s}.${side} (id int${c.noPk ? '' : ' NOT NULL'}, v ${t}${pk})`;
}

function rowSql(c: PeerCase, s: string, side: 'b' | 's', i: number, lit: string): string {
  const t = sideType(c, side, s);
  if (c.key2) return `INSERT INTO ${s}.${side} (k1, k2, v) VALUES (${lit}, 'x')`;
  if (c.key) return `INSERT INTO ${s}.${side} (k, v) VALUES ((${lit})::${t}, 'x')`;
  return `INSERT INTO ${s}.${side} (id, v) VALUES (${i < 0 ? 'NULL' : i}, (${lit})::${t})`;
}

/**
 * Creates the case's schema, types and tables and inserts its rows. A row a
 * database cannot store (a character LATIN1 lacks) is left out on both sides of
 * a value case. Returns notes on what was left out or failed.
 */
export async function buildCase(c: PeerCase, schema: string, batchDb: Queryable, streamDb: Queryable): Promise<string[]> {
  const notes: string[] = [];
  for (const db of batchDb === streamDb ? [batchDb] : [batchDb, streamDb]) {
    await db.query(`CREATE SCHEMA ${schema}`);
    if (c.setup) { const e = await tryQuery(db, typed(c.setup, schema)); if (e) notes.push(`setup: ${e}`); }
  }
  for (const [side, db] of [['b', batchDb], ['s', streamDb]] as const) {
    const e = await tryQuery(db, tableSql(c, schema, side));
    if (e) { notes.push(`table ${side}: ${e}`); return notes; }
  }
  for (let i = 0; i < c.pairs.length; i++) {
    const [bl, sl] = c.pairs[i];
    const eb = bl === null ? null : await tryQuery(batchDb, rowSql(c, schema, 'b', i + 1, bl));
    const es = sl === null ? null : await tryQuery(streamDb, rowSql(c, schema, 's', i + 1, sl));
    if (eb || es) {
      notes.push(`pair ${i + 1} left out: ${eb ?? es}`);
      if (!eb && bl !== null && !c.key) await batchDb.query(`DELETE FROM ${schema}.b WHERE id = ${i + 1}`);
      if (!es && sl !== null && !c.key) await streamDb.query(`DELETE FROM ${schema}.s WHERE id = ${i + 1}`);
      if (c.key) notes.push('  (key case: the other side keeps its row)');
    }
  }
  for (const [side, id, lit] of c.extra ?? []) {
    const e = await tryQuery(side === 'b' ? batchDb : streamDb, rowSql(c, schema, side, id, lit));
    if (e) notes.push(`extra row: ${e}`);
  }
  return notes;
}

/** The dataset entry comparing a case's two tables (`batchDatabase`: the batch side lives there). */
export function caseDataset(c: PeerCase, schema: string, batchDatabase?: string, buckets?: number): Record<string, unknown> {
  return {
    key: keyCols(c),
    batch: { output: `${schema}.b`, ...(batchDatabase ? { database: batchDatabase } : {}) },
    stream: { output: `${schema}.s`, source: { topic: 'peer.topic', format: 'json' } },
    reconcile: { columns: ['v'], ...(buckets ? { buckets } : {}) },
  };
}

/** Differing keys of a result: key values joined by `|` -> kind (with both values when changed). */
export function differingKeys(c: PeerCase, r: WindowResult): Map<string, string> {
  const m = new Map<string, string>();
  // Two key parts as JSON: joined by '|', ('a|b', 'c') and ('a', 'b|c') would count as one key.
  const text = (y: { key: Record<string, unknown> }) => (keyCols(c).length === 1 ? String(y.key[keyCols(c)[0]]) : JSON.stringify(keyCols(c).map((k) => String(y.key[k]))));
  for (const y of r.diff?.samples ?? []) m.set(text(y), y.kind === 'changed' ? `changed ${JSON.stringify(y.columns?.v)}` : y.kind);
  return m;
}

/** A value case's finding per pair, as the `expect` string writes it: `=` no difference, `x` a difference. */
export function pairFindings(c: PeerCase, keys: Map<string, string>): string {
  return c.pairs.map((_, i) => (keys.has(String(i + 1)) ? 'x' : '=')).join('');
}
