-- The elements of `flat` (a one-dimensional array, lower bound 1) laid out with the dimensions and
-- lower bounds `dims` (array_dims' text, `[0:1][1:3]`; NULL: an empty array). The serving view
-- converts an array column element by element (float_decimal, AT TIME ZONE the window zone), the
-- way the reconciler compared it; ARRAY(SELECT ... unnest) flattens, and the reconciler counts
-- dimensions and lower bounds as part of an array's value, so they are put back here.
CREATE OR REPLACE FUNCTION dualrun.array_shaped(flat anyarray, dims text) RETURNS anyarray
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog
  AS $$
DECLARE
  lbs int[]; lens int[]; s int[]; r flat%TYPE; n int; rest int;
BEGIN
  IF flat IS NULL OR dims IS NULL THEN RETURN flat; END IF;
  SELECT array_agg(m[1]::int ORDER BY o), array_agg(m[2]::int - m[1]::int + 1 ORDER BY o) INTO lbs, lens
    FROM regexp_matches(dims, '\[(-?[0-9]+):(-?[0-9]+)\]', 'g') WITH ORDINALITY AS t(m, o);
  n := cardinality(lbs);
  IF n = 1 AND lbs[1] = 1 THEN RETURN flat; END IF;
  r := array_fill(flat[0], lens, lbs);
  FOR i IN 0 .. coalesce(cardinality(flat), 0) - 1 LOOP
    -- Row-major order, as unnest yields a multi-dimensional array's elements.
    rest := i; s := array_fill(0, ARRAY[n]);
    FOR k IN REVERSE n .. 1 LOOP s[k] := lbs[k] + rest % lens[k]; rest := rest / lens[k]; END LOOP;
    CASE n
      WHEN 1 THEN r[s[1]] := flat[i + 1];
      WHEN 2 THEN r[s[1]][s[2]] := flat[i + 1];
      WHEN 3 THEN r[s[1]][s[2]][s[3]] := flat[i + 1];
      WHEN 4 THEN r[s[1]][s[2]][s[3]][s[4]] := flat[i + 1];
      WHEN 5 THEN r[s[1]][s[2]][s[3]][s[4]][s[5]] := flat[i + 1];
      ELSE r[s[1]][s[2]][s[3]][s[4]][s[5]][s[6]] := flat[i + 1];
    END CASE;
  END LOOP;
  RETURN r;
END $$;
