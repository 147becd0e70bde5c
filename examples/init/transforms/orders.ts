// Streaming transform for orders: receives one validated row image and returns the
// row to upsert into the stream output (or null to drop it, or an array of rows).
// Throwing sends the record to dead letters with the error as its reason.
export default function transform(row: Record<string, unknown>): Record<string, unknown> {
  return {
    order_id: row.order_id,
    customer_id: row.customer_id,
    amount: row.amount,
    status: row.status,
    order_date: row.order_date,
  };
}
