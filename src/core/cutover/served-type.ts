/**
 * A column's type as the serving view needs it to cast a stream value to the batch type the way
 * the reconciler compared it: domains resolved, arrays to their element, composites to their
 * fields (recursively, as reconcile/table-columns.ts describes them for the comparison).
 */
import type { PoolClient } from '../db/connect.ts';
import { DualrunError } from '../errors.ts';

export interface ServedType {
  /** format_type: valid as a cast target (`numeric(12,2)`, `a.money_pair`, a domain's name). */
  readonly type: string;
  /** The type's name with domains resolved (`timestamp` for a domain over it). */
  readonly base: string;
  /** An array's element (also under a domain), else null. */
  readonly elem: ServedType | null;
  /** A composite's fields in its own order (also under a domain), else null. */
  readonly fields: readonly { readonly name: string; readonly type: ServedType }[] | null;
}

interface TypeRow { type: string; typname: string; typcategory: string; typelem: number; typtype: string; typrelid: number }

export async function describeServedType(c: PoolClient, oid: number, typmod: number, depth = 0): Promise<ServedType> {
  if (depth > 32) throw new DualrunError('DUALRUN_SERVE_REFUSED', `type oid ${oid} nests deeper than 32 levels`);
  const r = await c.query<TypeRow>(
    `WITH RECURSIVE d(t) AS (SELECT $1::oid UNION ALL SELECT p.typbasetype FROM pg_type p JOIN d ON p.oid = d.t WHERE p.typtype = 'd')
     SELECT format_type($1::oid, $2::int) AS type, p.typname::text AS typname, p.typcategory::text AS typcategory,
            p.typelem::int AS typelem, p.typtype::text AS typtype, p.typrelid::int AS typrelid
       FROM d JOIN pg_type p ON p.oid = d.t WHERE p.typtype <> 'd'`, [oid, typmod]);
  const t = r.rows[0];
  const elem = t.typcategory === 'A' && t.typelem !== 0 ? await describeServedType(c, t.typelem, -1, depth + 1) : null;
  let fields: ServedType['fields'] = null;
  if (t.typtype === 'c') {
    const fs = await c.query<{ name: string; typid: number; typmod: number }>(
      `SELECT attname::text AS name, atttypid::int AS typid, atttypmod AS typmod FROM pg_attribute
        WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [t.typrelid]);
    const list: { name: string; type: ServedType }[] = [];
    for (const f of fs.rows) list.push({ name: f.name, type: await describeServedType(c, f.typid, f.typmod, depth + 1) });
    fields = list;
  }
  return { type: t.type, base: t.typname, elem, fields };
}
