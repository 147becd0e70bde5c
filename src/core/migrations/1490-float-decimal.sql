-- A float as the decimal its shortest round-trip text denotes, the way the reconciler compares a
-- float with an exact number (docs/reconcile.md). The serving view serves a stream float column
-- under a batch numeric through this: Postgres's own float8::numeric keeps 15 significant digits
-- (0.30000000000000004 became 0.3, a float4 16777216 became 16777200), and float8::text depends on
-- the reader's extra_float_digits. Fixed settings, so the result depends on the value only.
CREATE OR REPLACE FUNCTION dualrun.float_decimal(float8) RETURNS numeric
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  SET extra_float_digits = 1 SET search_path = pg_catalog
  AS $$ SELECT $1::text::numeric $$;
