/**
 * What the serving view is besides its query, and must stay across every switch:
 * its options (`security_invoker`, `security_barrier`, `check_option`), its owner,
 * and who may read it (table and column grants). `CREATE OR REPLACE VIEW` without a
 * `WITH` clause resets the options to none, so a `security_invoker` view (readers
 * subject to the outputs' privileges and row-level security) silently became an
 * owner's-rights view at the first flip; `DROP` + `CREATE` (the batch output's
 * columns changed) also made dualrun's role the owner and lost column grants.
 */
import type { PoolClient } from '../db/connect.ts';
import { quoteIdent, quoteLiteral, type TableRef } from '../identifiers.ts';

export interface ViewKeep {
  /** `name=value` as in pg_class.reloptions. */
  readonly options: readonly string[];
  readonly owner: string;
  readonly grants: readonly { privilege: string; grantee: string | null; grantable: boolean }[];
  readonly columnGrants: readonly { column: string; privilege: string; grantee: string | null; grantable: boolean }[];
  /** Triggers and rules (other than the view's own `_RETURN`) that a DROP would lose with it. */
  readonly attached: readonly string[];
}

/** The view's options, owner, grants and attached objects (null: no such view). */
export async function readViewKeep(c: PoolClient, view: TableRef): Promise<ViewKeep | null> {
  const r = await c.query<{ options: string[] | null; owner: string; grants: ViewKeep['grants'] | null; column_grants: ViewKeep['columnGrants'] | null; attached: string[] | null }>(
    `SELECT cl.reloptions AS options, pg_get_userbyid(cl.relowner) AS owner,
       (SELECT json_agg(json_build_object('privilege', a.privilege_type, 'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, 'grantable', a.is_grantable))
          FROM aclexplode(cl.relacl) a WHERE a.grantee <> cl.relowner) AS grants,
       (SELECT json_agg(json_build_object('column', att.attname, 'privilege', a.privilege_type, 'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, 'grantable', a.is_grantable))
          FROM pg_attribute att, aclexplode(att.attacl) a WHERE att.attrelid = cl.oid AND att.attnum > 0 AND NOT att.attisdropped AND a.grantee <> cl.relowner) AS column_grants,
       (SELECT array_agg(x) FROM (SELECT 'trigger ' || tgname AS x FROM pg_trigger WHERE tgrelid = cl.oid
                                  UNION ALL SELECT 'rule ' || rulename FROM pg_rewrite WHERE ev_class = cl.oid AND rulename <> '_RETURN') t) AS attached
     FROM pg_class cl WHERE cl.oid = to_regclass($1) AND cl.relkind = 'v'`, [view.sql]);
  const row = r.rows[0];
  if (!row) return null;
  return { options: row.options ?? [], owner: row.owner, grants: row.grants ?? [], columnGrants: row.column_grants ?? [], attached: row.attached ?? [] };
}

/** ` WITH (security_invoker='true', …)` for CREATE [OR REPLACE] VIEW, '' when the view had none. */
export function viewOptionsClause(keep: ViewKeep | null): string {
  const opts = (keep?.options ?? []).flatMap((o) => {
    const eq = o.indexOf('=');
    const name = o.slice(0, eq);
    // Catalog values; never splice anything but an option name.
    return eq > 0 && /^[a-z_]+$/.test(name) ? [`${name}=${quoteLiteral(o.slice(eq + 1))}`] : [];
  });
  return opts.length ? ` WITH (${opts.join(', ')})` : '';
}

/** After DROP + CREATE: the grants (on columns the new view still has) and the owner, as they were. */
export async function restoreViewKeep(c: PoolClient, view: TableRef, keep: ViewKeep): Promise<void> {
  const role = (g: string | null) => (g === null ? 'PUBLIC' : quoteIdent(g));
  const cols = new Set((await c.query<{ name: string }>(
    'SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped', [view.sql])).rows.map((x) => x.name));
  for (const g of keep.grants) {
    if (!/^[A-Z ]+$/.test(g.privilege)) continue; // catalog values; never splice anything else
    await c.query(`GRANT ${g.privilege} ON ${view.sql} TO ${role(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
  for (const g of keep.columnGrants) {
    if (!/^[A-Z ]+$/.test(g.privilege) || !cols.has(g.column)) continue;
    await c.query(`GRANT ${g.privilege} (${quoteIdent(g.column)}) ON ${view.sql} TO ${role(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
  // Last: ALTER OWNER hands the grants made above (grantor: dualrun's role) over to the owner.
  const me = (await c.query<{ me: string }>('SELECT current_user AS me')).rows[0].me;
  if (keep.owner !== me) await c.query(`ALTER VIEW ${view.sql} OWNER TO ${quoteIdent(keep.owner)}`);
}

/** `security_invoker` set: readers need their own SELECT on the table the view reads. */
function invokerRights(keep: ViewKeep): boolean {
  return keep.options.some((o) => /^security_invoker=(t|tr|tru|true|y|ye|yes|on|1)$/i.test(o));
}

/**
 * Readers of a `security_invoker` view that could not read it once it reads `target`:
 * each role granted SELECT on the view (or a column of it) without SELECT on any column
 * of `target`, and PUBLIC when the view is granted to PUBLIC but `target` is not.
 */
export async function readersLosingAccess(c: PoolClient, keep: ViewKeep | null, target: TableRef): Promise<string[]> {
  if (!keep || !invokerRights(keep)) return [];
  const roles = [...new Set([...keep.grants, ...keep.columnGrants].filter((g) => g.privilege === 'SELECT').map((g) => g.grantee))];
  if (roles.length === 0) return [];
  const r = await c.query<{ role: string | null; ok: boolean }>(
    `SELECT role, CASE WHEN role IS NULL
               THEN EXISTS (SELECT 1 FROM pg_class cl, aclexplode(cl.relacl) a WHERE cl.oid = to_regclass($2) AND a.grantee = 0 AND a.privilege_type = 'SELECT')
               ELSE has_any_column_privilege(role, to_regclass($2), 'SELECT') END AS ok
       FROM unnest($1::text[]) AS role`, [roles, target.sql]);
  return r.rows.filter((x) => !x.ok).map((x) => x.role ?? 'PUBLIC');
}
