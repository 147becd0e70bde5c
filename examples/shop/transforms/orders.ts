// Streaming transform for shop.orders: the store's wall-clock time becomes an instant
// in the store's own time zone (what the legacy SQL does with AT TIME ZONE).
import { zonedToInstant } from './zoned-time.ts';

export default function transform(row: Record<string, unknown>): Record<string, unknown> {
  return {
    order_id: row.order_id,
    customer_id: row.customer_id,
    amount: row.amount,
    status: row.status,
    store: row.store,
    placed_at: zonedToInstant(String(row.placed_local), String(row.store_tz)).toISOString(),
    loaded_at: new Date().toISOString(), // when the stream loaded it (ignored by reconcile)
  };
}
