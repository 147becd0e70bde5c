-- The identity of the record at each stored position (streaming/record-identity.ts):
-- a digest of the last applied record's timestamp, key and value. A Kafka topic deleted
-- and created again holds other records at the same offsets; the worker compares the
-- record at the stored offset with this before it trusts the offset. NULL: not known
-- (positions stored before this column, or moved by a replay), nothing to compare.
ALTER TABLE dualrun.stream_positions ADD COLUMN last_record text;
