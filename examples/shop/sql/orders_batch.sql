-- The legacy nightly job for one day: orders placed in the window, with the store's
-- local wall-clock time converted to an instant by Postgres.
SELECT order_id,
       customer_id,
       amount,
       status,
       store,
       (placed_local AT TIME ZONE store_tz) AS placed_at
FROM shop.orders
WHERE (placed_local AT TIME ZONE store_tz) >= :window_start
  AND (placed_local AT TIME ZONE store_tz) <  :window_end
