-- Managed legacy batch for one window. :window_start and :window_end are bound as
-- parameters (never spliced). The SELECT's columns must match analytics.orders_batch.
SELECT order_id, customer_id, amount, status, order_date, now() AS loaded_at
FROM public.orders
WHERE order_date >= :window_start AND order_date < :window_end
