// The defect the demo plants: this "optimised" version parses the store's wall-clock
// time as if it were UTC. Right for UTC stores, wrong by hours for every other store.
export default function transform(row: Record<string, unknown>): Record<string, unknown> {
  return {
    order_id: row.order_id,
    customer_id: row.customer_id,
    amount: row.amount,
    status: row.status,
    store: row.store,
    placed_at: new Date(`${String(row.placed_local).replace(' ', 'T')}Z`).toISOString(),
  };
}
