-- The sink binds values as their base type and refuses any value the column's type
-- modifier would change (numeric scale rounding, timestamp/time/interval precision,
-- varchar trailing-space truncation, ...): Postgres does such changes silently on
-- assignment. The merge calls this only for a value that would change, so the
-- batch fails with a data error and the record becomes an `apply` dead letter.
CREATE OR REPLACE FUNCTION dualrun.refuse_changed_value(col text, typ text, given text, stored text, errcode text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION 'value % for column % would be stored as % by type % (dualrun never alters a value)',
      left(given, 200), col, left(stored, 200), typ
    USING ERRCODE = errcode, COLUMN = col, DATATYPE = typ,
          HINT = 'send the value in the precision/length the column holds, or widen the column';
END $$;
