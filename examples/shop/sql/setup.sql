-- The shop's source table and both outputs (the legacy job's and the stream's).
CREATE SCHEMA IF NOT EXISTS shop;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE shop.orders (
  order_id     bigint PRIMARY KEY,
  customer_id  integer NOT NULL,
  amount       numeric(10,2) NOT NULL,
  status       text NOT NULL,
  store        text NOT NULL,
  store_tz     text NOT NULL,
  placed_local timestamp NOT NULL      -- wall-clock time at the store
);
CREATE TABLE analytics.orders_batch (
  order_id    bigint NOT NULL,
  customer_id integer NOT NULL,
  amount      numeric(10,2) NOT NULL,
  status      text NOT NULL,
  store       text NOT NULL,
  placed_at   timestamptz NOT NULL,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE analytics.orders_stream (
  order_id    bigint PRIMARY KEY,
  customer_id integer NOT NULL,
  amount      numeric(10,2) NOT NULL,
  status      text NOT NULL,
  store       text NOT NULL,
  placed_at   timestamptz NOT NULL,
  loaded_at   timestamptz NOT NULL DEFAULT now()   -- both outputs carry it; reconcile ignores it
);
