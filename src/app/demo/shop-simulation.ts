/**
 * The demo's source system: a shop whose orders are inserted, updated and deleted
 * day by day. Everything is generated inside Postgres from the order id, so each
 * run produces the same data, fast.
 */
import type { Pool } from '../../core/db/connect.ts';

export const ORDERS_PER_DAY = 300;

/** Stores and their time zones: every third order is placed in New York. */
const STORE_SQL = `CASE WHEN i % 3 = 0 THEN 'nyc' ELSE 'berlin' END`;
const TZ_SQL = `CASE WHEN i % 3 = 0 THEN 'America/New_York' ELSE 'Europe/Berlin' END`;

export function orderIdsOfDay(dayIndex: number): { first: number; last: number } {
  const first = (dayIndex + 1) * 100_000 + 1;
  return { first, last: first + ORDERS_PER_DAY - 1 };
}

/** One business day at the shop: new orders (08:00–18:00 local), payments, corrections, cancellations. */
export async function simulateDay(db: Pool, day: string, dayIndex: number): Promise<{ inserted: number; updated: number; deleted: number }> {
  const { first, last } = orderIdsOfDay(dayIndex);
  const ins = await db.query(
    `INSERT INTO shop.orders (order_id, customer_id, amount, status, store, store_tz, placed_local)
     SELECT i, 1 + abs(hashtext('c' || i)) % 400, round(5 + (abs(hashtext('a' || i)) % 20000) / 100.0, 2), 'new',
            ${STORE_SQL}, ${TZ_SQL},
            $1::date + interval '8 hours' + (abs(hashtext('t' || i)) % 36000) * interval '1 second'
     FROM generate_series($2::bigint, $3::bigint) AS i`,
    [day, first, last],
  );
  const paid = await db.query(`UPDATE shop.orders SET status = 'paid' WHERE order_id BETWEEN $1 AND $2 AND order_id % 2 = 0`, [first, last]);
  const fixed = await db.query(`UPDATE shop.orders SET amount = amount + 1.50 WHERE order_id BETWEEN $1 AND $2 AND order_id % 7 = 0`, [first, last]);
  const shipped = await db.query(`UPDATE shop.orders SET status = 'shipped' WHERE order_id BETWEEN $1 AND $2 AND order_id % 4 = 0`, [first, last]);
  const del = await db.query(`DELETE FROM shop.orders WHERE order_id BETWEEN $1 AND $2 AND order_id % 31 = 0`, [first, last]);
  return { inserted: ins.rowCount ?? 0, updated: (paid.rowCount ?? 0) + (fixed.rowCount ?? 0) + (shipped.rowCount ?? 0), deleted: del.rowCount ?? 0 };
}

/** Keys the time-zone defect touches on a day: the New York orders still present. */
export async function newYorkOrdersOfDay(db: Pool, dayIndex: number): Promise<number[]> {
  const { first, last } = orderIdsOfDay(dayIndex);
  const r = await db.query<{ order_id: string }>(`SELECT order_id FROM shop.orders WHERE order_id BETWEEN $1 AND $2 AND store = 'nyc' ORDER BY 1`, [first, last]);
  return r.rows.map((x) => Number(x.order_id));
}
