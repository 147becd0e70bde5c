/**
 * Cases for the differential probe against reladiff (scripts/reconcile-vs-reladiff.ts):
 * pairs of tables over many column and key types, each row one small mutation
 * (or none). Row i holds pair i: the batch literal and the stream literal of
 * the compared column (or of the key, for key cases); `null` leaves the row out
 * on that side. Literals are SQL, cast to the side's type.
 */

export interface PeerCase {
  name: string;
  /** Types of the compared column `v` (or the key `k`, for key cases), per side. `$S.` is the case's schema. */
  batchType: string;
  streamType?: string;
  /** [batch literal, stream literal]; null: no row on that side. */
  pairs: [string | null, string | null][];
  /** Key case: the pairs are key values (`k`), `v` is the same text on both sides. */
  key?: boolean;
  /** Composite key case: pairs are `k1, k2` literal lists (comma separated), keys typed batchType, streamType2. */
  key2?: { type1: string; type2: string };
  /** SQL run first in the case's schema on every database ($S. is the schema). */
  setup?: string;
  /** Tables get no primary key (duplicate rows). */
  noPk?: boolean;
  /** What dualrun must find per pair (value cases): `=` no difference, `x` a difference (reviewed against reladiff and docs/reconcile.md). */
  expect?: string;
  /** Differing keys beyond the pairs' ids (value cases: a NULL key), or all differing keys (key cases). */
  otherKeys?: number;
  /** The column's two types have no equality rule: schema drift. */
  drift?: boolean;
  /** Extra rows inserted as is (after the pairs): [side, id (negative: NULL), literal]. */
  extra?: ['b' | 's', number, string][];
}

/** A case-blind and an accent-and-case-blind ICU collation ('A' = 'a'; 'e' = 'é' too under `cia`). */
const CI = "CREATE COLLATION $S.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)";
const CIA = "CREATE COLLATION $S.cia (provider = icu, locale = 'und-u-ks-level1', deterministic = false)";
const ENUMS = "CREATE TYPE $S.e1 AS ENUM ('a', 'b', 'c'); CREATE TYPE $S.e2 AS ENUM ('c', 'b', 'a')";

export const PEER_CASES: PeerCase[] = [
  { name: 'int2', expect: '=xxxx', batchType: 'int2', pairs: [['0', '0'], ['1', '2'], ['-32768', '32767'], ['-5', '5'], ['NULL', '0']] },
  { name: 'int4', expect: '=xxxx', batchType: 'int4', pairs: [['0', '0'], ['1', '2'], ['-5', '5'], ['NULL', '0'], ['2147483647', '-2147483648']] },
  { name: 'int8', expect: '=xxxx=', batchType: 'int8', pairs: [['0', '0'], ['1', '4294967297'], ['9223372036854775807', '9223372036854775806'], ['-5', '5'], ['-1', '4294967295'], ['NULL', 'NULL']] },
  { name: 'int4_int8', expect: '=xx', batchType: 'int4', streamType: 'int8', pairs: [['10', '10'], ['1', '4294967297'], ['-5', '5']] },
  {
    name: 'numeric', expect: '==xxxx==x', batchType: 'numeric',
    pairs: [['1.0', '1.00'], ['1.5', '1.50'], ['5', '-5'], ['0.1', '0.10000000000000000001'], ['1e-30', '0'], ['12345678901234567890.123', '12345678901234567890.124'], ['0', '-0'], ['0.000', '0'], ['NULL', '0']],
  },
  // reladiff cannot read NaN/Infinity (numeric field overflow): apart, so the other pairs get compared.
  { name: 'numeric_special', expect: '=xx=x', batchType: 'numeric', pairs: [["'NaN'", "'NaN'"], ["'NaN'", "'Infinity'"], ["'Infinity'", "'-Infinity'"], ["'Infinity'", "'Infinity'"], ["'NaN'", '0']] },
  { name: 'numeric_12_2__numeric', expect: '==x=', batchType: 'numeric(12,2)', streamType: 'numeric', pairs: [['1.5', '1.50'], ['1.25', '1.250'], ['1.25', '1.251'], ['10', '10.000']] },
  { name: 'numeric_10_2__10_3', expect: '=xx', batchType: 'numeric(10,2)', streamType: 'numeric(10,3)', pairs: [['1.23', '1.230'], ['1.23', '1.231'], ['1.2', '1.205']] },
  { name: 'numeric_12_2', expect: '=xx=', batchType: 'numeric(12,2)', pairs: [['1.5', '1.50'], ['1.25', '1.26'], ['-0.01', '0.01'], ["'NaN'", "'NaN'"]] },
  {
    name: 'float4', expect: '=x=xx=x', batchType: 'float4',
    pairs: [["'-0'", '0'], ['1e-45', '0'], ['1.17549435e-38', '1.1754944e-38'], ['0.1', '0.1000001'],
      ['1.4e-45', '2.8e-45'], ['16777216', '16777217'], ['1.0000001', '1.0000002']],
  },
  {
    name: 'float8', expect: 'xx=xx==x=', batchType: 'float8',
    pairs: [['5e-324', '0'], ['0.1::float8 + 0.2::float8', '0.3'], ["'-0'", '0'],
      ['1e-320', '2e-320'], ['0.1', '0.1000000000000001'], ['123456789.123456789', '123456789.12345679'], ['1e15+0.3', '1e15+0.2'], ['NULL', '0'], ['9007199254740993', '9007199254740992']],
  },
  { name: 'float4_special', expect: '=xxx=', batchType: 'float4', pairs: [["'NaN'", "'NaN'"], ["'Infinity'", "'-Infinity'"], ["'NaN'", '0'], ["'Infinity'", '3.4028235e38'], ['3.4028235e38', '3.4028235e38']] },
  { name: 'float8_special', expect: '=xxx==x', batchType: 'float8', pairs: [["'NaN'", "'NaN'"], ['1.7976931348623157e308', "'Infinity'"], ["'NaN'", 'NULL'], ["'-Infinity'", "'Infinity'"], ["'NaN'", "'-NaN'"], ['1e308', '1.0000000000000001e308'], ['1e308', '1.0000000000000002e308']] },
  { name: 'float8_int8', expect: 'x=xx', batchType: 'float8', streamType: 'int8', pairs: [['9223372036854775807', '9223372036854775806'], ['3', '3'], ['9007199254740992', '9007199254740993'], ['0.5', '0']] },
  { name: 'float8_numeric_big', expect: 'xx=', batchType: 'float8', streamType: 'numeric', pairs: [['1', '1e400'], ['0.1', '0.10000000000000000001'], ['2', '2']] },
  { name: 'float4_float8', expect: '=x=', batchType: 'float4', streamType: 'float8', pairs: [['0.5', '0.5'], ['0.1', '0.1'], ["'-0'", '0']] },
  { name: 'float8_numeric', expect: '====', batchType: 'float8', streamType: 'numeric', pairs: [['0.5', '0.5'], ['0.1', '0.1'], ['3', '3.0'], ['1e300', '1e300']] },
  {
    name: 'text', expect: 'xxxxx=x=xxxxx', batchType: 'text',
    pairs: [["'a'", "'a '"], ["''", 'NULL'], ["'A'", "'a'"], ["U&'\\00E9'", "U&'e\\0301'"], ["E'a\\tb'", "'a b'"], ["E'a\\\\b'", "'a\\b'"], ["'a\"b'", "'a''b'"],
      ["'a,b'", "'a,b'"], ["E'x\\n'", "'x'"], ["'NULL'", 'NULL'], ["'\u{1F600}'", "'\u{1F601}'"], ["'ß'", "'ss'"], ["E'\\u00a0'", "' '"]],
  },
  { name: 'varchar_text', expect: '=x=', batchType: 'varchar(10)', streamType: 'text', pairs: [["'abc'", "'abc'"], ["'abc'", "'abc '"], ["'abc '", "'abc '"]] },
  { name: 'char5', expect: '=x=x', batchType: 'char(5)', pairs: [["'ab'", "'ab  '"], ["'ab'", "'ab c'"], ["''", "' '"], ["''", 'NULL']] },
  { name: 'char5_text', expect: '=x=', batchType: 'char(5)', streamType: 'text', pairs: [["'ab'", "'ab'"], ["'ab'", "'ab '"], ["' '", "''"]] },
  { name: 'char3_char5', expect: '=x', batchType: 'char(3)', streamType: 'char(5)', pairs: [["'ab'", "'ab'"], ["'ab'", "'abc'"]] },
  { name: 'citext', expect: 'xx=', batchType: 'citext', setup: 'CREATE EXTENSION IF NOT EXISTS citext SCHEMA public', pairs: [["'abc'", "'ABC'"], ["'abc'", "'abd'"], ["'abc'", "'abc'"]] },
  { name: 'citext_text', expect: 'x=', batchType: 'citext', streamType: 'text', setup: 'CREATE EXTENSION IF NOT EXISTS citext SCHEMA public', pairs: [["'abc'", "'ABC'"], ["'abc'", "'abc'"]] },
  { name: 'uuid', expect: '=x', batchType: 'uuid', pairs: [["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"], ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'"]] },
  { name: 'uuid_text', expect: 'x=x', batchType: 'uuid', streamType: 'text', pairs: [["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"], ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"], ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'a0eebc999c0b4ef8bb6d6bb9bd380a11'"]] },
  { name: 'bytea', expect: 'xxx=', batchType: 'bytea', pairs: [["'\\x00'", "'\\x0000'"], ["''", 'NULL'], ["'\\xdeadbeef'", "'\\xdeadbeee'"], ["'\\xff'", "'\\xFF'"]] },
  { name: 'bool', expect: 'xx=', batchType: 'bool', pairs: [['true', 'false'], ['NULL', 'false'], ["'yes'", 'true']] },
  { name: 'date', expect: 'xxx=', batchType: 'date', pairs: [["'infinity'", "'-infinity'"], ["'2020-01-01'", "'2020-01-02'"], ["'4713-01-01 BC'", "'4713-01-01'"], ["'2020-01-01'", "'2020-01-01'"]] },
  { name: 'time', expect: 'xx=', batchType: 'time', pairs: [["'12:00'", "'12:00:00.000001'"], ["'24:00'", "'00:00'"], ["'12:00'", "'12:00:00'"]] },
  { name: 'time0_time6', expect: 'x=', batchType: 'time(0)', streamType: 'time(6)', pairs: [["'12:00:00'", "'12:00:00.4'"], ["'12:00:00'", "'12:00:00'"]] },
  { name: 'timetz', expect: 'x=x', batchType: 'timetz', pairs: [["'12:00+02'", "'10:00+00'"], ["'12:00+02'", "'12:00+02'"], ["'12:00+02'", "'12:00:00.000001+02'"]] },
  {
    name: 'timestamp', expect: 'x=x=xxx', batchType: 'timestamp',
    pairs: [["'2020-01-01 00:00:00.123456'", "'2020-01-01 00:00:00.123457'"], ["'infinity'", "'infinity'"], ["'infinity'", "'-infinity'"], ["'2020-01-01 00:00'", "'2020-01-01 00:00:00.000000'"],
      ["'2020-01-01 00:00'", "'2020-01-01 01:11:34.967296'"], ["'0001-01-01 00:00 BC'", "'0001-01-01 00:00'"], ["'294276-12-31 23:59:59'", "'294276-12-31 23:59:58'"]],
  },
  { name: 'timestamp3_timestamp6', expect: '=xx', batchType: 'timestamp(3)', streamType: 'timestamp(6)', pairs: [["'2020-01-01 00:00:12.123'", "'2020-01-01 00:00:12.123000'"], ["'2020-01-01 00:00:12.123'", "'2020-01-01 00:00:12.123400'"], ["'2020-01-01 00:00:12.1234'", "'2020-01-01 00:00:12.1234'"]] },
  { name: 'timestamp0_timestamp', expect: 'x=', batchType: 'timestamp(0)', streamType: 'timestamp', pairs: [["'2020-01-01 12:00:00.4'", "'2020-01-01 12:00:00.4'"], ["'2020-01-01 12:00:00.6'", "'2020-01-01 12:00:01'"]] },
  {
    name: 'timestamptz', expect: '=xx=x', batchType: 'timestamptz',
    pairs: [["'2020-01-01 12:00+02'", "'2020-01-01 10:00Z'"], ["'2020-01-01 12:00Z'", "'2020-01-01 12:00:00.000001Z'"], ["'infinity'", "'-infinity'"], ["'2020-06-01 12:00 Europe/Berlin'", "'2020-06-01 10:00Z'"], ["'2020-01-01 00:00Z'", "'2020-01-01 01:11:34.967296Z'"]],
  },
  { name: 'timestamptz3_6', expect: '=x', batchType: 'timestamptz(3)', streamType: 'timestamptz(6)', pairs: [["'2020-01-01 00:00:12.123Z'", "'2020-01-01 00:00:12.123Z'"], ["'2020-01-01 00:00:12.123Z'", "'2020-01-01 00:00:12.1234Z'"]] },
  { name: 'timestamp_timestamptz', expect: '==x=', batchType: 'timestamp', streamType: 'timestamptz', pairs: [["'2020-01-01 12:00'", "'2020-01-01 12:00Z'"], ["'2020-01-01 12:00'", "'2020-01-01 13:00+01'"], ["'2020-01-01 12:00'", "'2020-01-01 12:00+01'"], ["'infinity'", "'infinity'"]] },
  // At the ends of timestamptz's range: no instant for these, compared by their text (never equal to an instant).
  { name: 'date_timestamptz_far', expect: 'xx=', batchType: 'date', streamType: 'timestamptz', pairs: [["'300000-01-01'", "'infinity'"], ["'294277-01-01'", "'294276-12-31 12:00Z'"], ["'infinity'", "'infinity'"]] },
  { name: 'timestamp_timestamptz_far', expect: 'xx=', batchType: 'timestamp', streamType: 'timestamptz', pairs: [["'294276-12-31 23:00'", "'infinity'"], ["'4714-11-24 00:00 BC'", "'-infinity'"], ["'2020-01-01 12:00'", "'2020-01-01 12:00Z'"]] },
  { name: 'date_timestamptz', expect: '=x', batchType: 'date', streamType: 'timestamptz', pairs: [["'2020-01-01'", "'2020-01-01 00:00Z'"], ["'2020-01-01'", "'2020-01-01 00:00:01Z'"]] },
  {
    name: 'interval', expect: 'xx===xx', batchType: 'interval',
    pairs: [["'1 day'", "'24 hours'"], ["'1 mon'", "'30 days'"], ["'1 year'", "'12 mon'"], ["'-1 day'", "'1 day ago'"], ["'PT1S'", "'1 second'"], ["'1.5 seconds'", "'1.500001 seconds'"], ["'1 day'", "'1 day 00:00:00.000001'"]],
  },
  {
    name: 'json', expect: 'x===xx==x==', batchType: 'json',
    pairs: [["'{\"a\":1}'", "'{\"a\":1.0}'"], ["'{\"a\":1,\"b\":2}'", "'{\"b\":2,\"a\":1}'"], ["'{\"a\":1,\"a\":2}'", "'{\"a\":2}'"], ["'{\"a\": 1}'", "'{\"a\":1}'"], ["'{\"a\":\"1\"}'", "'{\"a\":1}'"],
      ["'[1,2]'", "'[2,1]'"], ["'{\"a\":\"\\u0000\"}'", "'{\"a\":\"\\u0000\"}'"], ["'{\"a\":\"\\u00e9\"}'", "'{\"a\":\"é\"}'"], ["'null'", 'NULL'], ["'1e2'", "'100'"], ["'{\"a\":1,\"a\":1}'", "'{\"a\":1}'"]],
  },
  // Numbers beyond numeric's range are valid json that jsonb refuses: compared by their text.
  { name: 'json_big_number', expect: '=xx=', batchType: 'json', pairs: [["'{\"a\":1e200000}'", "'{\"a\":1e200000}'"], ["'{\"a\":1e200000}'", "'{\"a\":1e200001}'"], ["'[1e-20000]'", "'[ 1e-20000 ]'"], ["'{\"a\":1e10000}'", "'{\"a\":1e10000}'"]] },
  { name: 'jsonb', expect: 'xx=x==', batchType: 'jsonb', pairs: [["'{\"a\":1}'", "'{\"a\":1.0}'"], ["'{\"a\":[1,2]}'", "'{\"a\":[2,1]}'"], ["'{\"a\":1,\"b\":2}'", "'{\"b\":2,\"a\":1}'"], ["'{\"a\":null}'", "'{}'"], ["'1e2'", "'100'"], ["'\"x\"'", "'\"x\"'"]] },
  { name: 'json_jsonb', expect: '=x=x', batchType: 'json', streamType: 'jsonb', pairs: [["'{\"a\":1,\"b\":2}'", "'{\"b\":2,\"a\":1}'"], ["'{\"a\":1}'", "'{\"a\":1.0}'"], ["'{\"a\": [1, 2]}'", "'{\"a\":[1,2]}'"], ["'{\"a\":1,\"a\":2}'", "'{\"a\":1}'"]] },
  {
    name: 'int4_array', expect: 'xxxxxx=', batchType: 'int4[]',
    pairs: [["'{1,2}'", "'{2,1}'"], ["'{1,NULL}'", "'{1}'"], ["'{{1,2},{3,4}}'", "'{1,2,3,4}'"], ["'[0:1]={1,2}'", "'{1,2}'"], ["'{}'", 'NULL'], ["'{NULL}'", "'{}'"], ["'{1,2}'", "'{1,2}'"]],
  },
  { name: 'text_array', expect: 'x=xxx', batchType: 'text[]', pairs: [["'{\"NULL\"}'", "'{NULL}'"], ["'{\"a b\"}'", "'{\"a b\"}'"], ["'{\"a,b\"}'", "'{a,b}'"], ["'{\"\"}'", "'{}'"], ["ARRAY['a ']", "ARRAY['a']"]] },
  { name: 'numeric_array', expect: '=xx', batchType: 'numeric[]', streamType: 'numeric(10,2)[]', pairs: [["'{1.5,NULL}'", "'{1.50,NULL}'"], ["'{1.5}'", "'{1.51}'"], ["'{1}'", "'[2:2]={1}'"]] },
  { name: 'float8_array', expect: '==x', batchType: 'float8[]', pairs: [["'{-0}'", "'{0}'"], ["'{NaN}'", "'{NaN}'"], ["'{0.1}'", "'{0.1000000000000001}'"]] },
  { name: 'float_numeric_array', expect: '=x=', batchType: 'float8[]', streamType: 'numeric[]', pairs: [["'{0.1,2}'", "'{0.1,2.0}'"], ["'{9007199254740992}'", "'{9007199254740993}'"], ["'{-0,NaN}'", "'{0,NaN}'"]] },
  { name: 'composite_float_numeric', expect: '=x=', batchType: '$S.fp', streamType: '$S.np', setup: 'CREATE TYPE $S.fp AS (x float8, n int); CREATE TYPE $S.np AS (x numeric, n int8)', pairs: [["'(0.1,1)'", "'(0.10,1)'"], ["'(9007199254740992,1)'", "'(9007199254740993,1)'"], ["'(,1)'", "'(,1)'"]] },
  { name: 'char_array_text_array', expect: '=x=', batchType: 'char(4)[]', streamType: 'text[]', pairs: [["'{ab}'", "'{ab}'"], ["'{ab}'", "'{\"ab \"}'"], ["'{NULL}'", "'{NULL}'"]] },
  { name: 'daterange', expect: '=x', batchType: 'daterange', pairs: [["'[2020-01-01,2020-01-03)'", "'[2020-01-01,2020-01-02]'"], ["'[2020-01-01,2020-01-03)'", "'[2020-01-01,2020-01-04)'"]] },
  { name: 'int2_numeric', expect: '=xx', batchType: 'int2', streamType: 'numeric', pairs: [['1', '1.000'], ['1', '1.001'], ['-1', '1']] },
  { name: 'domain_money2_numeric', expect: '=x', batchType: '$S.m2', streamType: 'numeric', setup: 'CREATE DOMAIN $S.m2 AS numeric(12,2)', pairs: [['1.5', '1.50'], ['1.5', '1.5000001']] },
  { name: 'date_timestamp', expect: '=x', batchType: 'date', streamType: 'timestamp', pairs: [["'2020-01-01'", "'2020-01-01 00:00'"], ["'2020-01-01'", "'2020-01-01 00:00:00.000001'"]] },
  { name: 'time_timetz', expect: '=', drift: true, batchType: 'time', streamType: 'timetz', pairs: [["'12:00'", "'12:00+00'"]] },
  { name: 'jsonb_nested', expect: '=xxx', batchType: 'jsonb', pairs: [["'{\"a\":{\"x\":1,\"y\":[1,{\"z\":2}]}}'", "'{\"a\":{\"y\":[1,{\"z\":2}],\"x\":1}}'"], ["'{\"a\":{\"x\":1}}'", "'{\"a\":{\"x\":\"1\"}}'"], ["'[]'", "'{}'"], ["'\"\"'", "'null'"]] },
  { name: 'enum_array_text_array', expect: '=x', batchType: '$S.mood[]', streamType: 'text[]', setup: "CREATE TYPE $S.mood AS ENUM ('sad', 'ok')", pairs: [["'{sad,ok}'", "'{sad,ok}'"], ["'{sad}'", "'{ok}'"]] },
  { name: 'enum', expect: 'x=', batchType: '$S.mood', setup: "CREATE TYPE $S.mood AS ENUM ('sad', 'ok', 'happy')", pairs: [["'sad'", "'ok'"], ["'ok'", "'ok'"]] },
  { name: 'enum_text', expect: '=x', batchType: '$S.mood', streamType: 'text', setup: "CREATE TYPE $S.mood AS ENUM ('sad', 'ok', 'happy')", pairs: [["'sad'", "'sad'"], ["'ok'", "'OK'"]] },
  { name: 'domain_int', expect: 'x=', batchType: '$S.posint', setup: 'CREATE DOMAIN $S.posint AS int CHECK (VALUE > 0)', pairs: [['1', '2'], ['3', '3']] },
  { name: 'inet', expect: '=xx=', batchType: 'inet', pairs: [["'10.0.0.1'", "'10.0.0.1/32'"], ["'10.0.0.1/24'", "'10.0.0.1'"], ["'::ffff:10.0.0.1'", "'10.0.0.1'"], ["'2001:db8::1'", "'2001:0db8:0:0::1'"]] },
  { name: 'cidr', expect: '=x', batchType: 'cidr', pairs: [["'10.0.0.0/8'", "'10.0.0.0/8'"], ["'10.0.0.0/8'", "'10.0.0.0/16'"]] },
  { name: 'inet_cidr', expect: '=', drift: true, batchType: 'inet', streamType: 'cidr', pairs: [["'10.0.0.0/8'", "'10.0.0.0/8'"]] },
  { name: 'macaddr', expect: '=x', batchType: 'macaddr', pairs: [["'08:00:2b:01:02:03'", "'08-00-2b-01-02-03'"], ["'08:00:2b:01:02:03'", "'08:00:2b:01:02:04'"]] },
  { name: 'macaddr8', expect: 'x', batchType: 'macaddr8', pairs: [["'08:00:2b:01:02:03:04:05'", "'08:00:2b:01:02:03:04:06'"]] },
  { name: 'bit', expect: 'x=', batchType: 'bit(3)', pairs: [["B'101'", "B'100'"], ["B'101'", "B'101'"]] },
  { name: 'varbit', expect: 'xxx', batchType: 'varbit', pairs: [["B'1'", "B'10'"], ["B'1'", "B'01'"], ["B''", 'NULL']] },
  { name: 'money', expect: '=xx', batchType: 'money', pairs: [['1.00', '1.001'], ['1.00', '1.01'], ['-0.01', '0.01']] },
  { name: 'money_numeric', expect: '=x=', batchType: 'money', streamType: 'numeric', pairs: [['1.00', '1'], ['1.00', '1.001'], ['1.5', '1.50']] },
  { name: 'tsvector', expect: '=x=', batchType: 'tsvector', pairs: [["'a b'", "'b a'"], ["'a:1'", "'a:2'"], ["'a'", "'a a'"]] },
  { name: 'int4range', expect: '=xx=', batchType: 'int4range', pairs: [["'[1,3)'", "'[1,2]'"], ["'(,)'", "'empty'"], ["'[1,3)'", "'[1,4)'"], ["'empty'", "'[5,5)'"]] },
  { name: 'numrange', expect: 'xx', batchType: 'numrange', pairs: [["'[1.0,2)'", "'[1.00,2)'"], ["'[1,2)'", "'[1,2]'"]] },
  { name: 'tstzrange', expect: '=x', batchType: 'tstzrange', pairs: [["'[2020-01-01 12:00+02,)'", "'[2020-01-01 10:00Z,)'"], ["'[2020-01-01 12:00Z,)'", "'[2020-01-01 12:00:01Z,)'"]] },
  { name: 'composite', expect: 'xxx=', batchType: '$S.pair', setup: 'CREATE TYPE $S.pair AS (a int, b text)', pairs: [["'(1,x)'", "'(1,y)'"], ["'(1,)'", "'(1,\"\")'"], ['NULL', "'(,)'"], ["'(1,x)'", "'(1,x)'"]] },
  { name: 'composite_ts', expect: '=x', batchType: '$S.pt', setup: 'CREATE TYPE $S.pt AS (n numeric, t timestamptz)', pairs: [["'(3.10,\"2020-01-01 12:00+02\")'", "'(3.1,\"2020-01-01 10:00Z\")'"], ["'(3.1,\"2020-01-01 12:00Z\")'", "'(3.1,\"2020-01-01 12:00:01Z\")'"]] },
  { name: 'composite_reordered', expect: 'x==', batchType: '$S.ab', streamType: '$S.ba', setup: 'CREATE TYPE $S.ab AS (a int, b int); CREATE TYPE $S.ba AS (b int, a int)', pairs: [["ROW(1, 2)", "ROW(1, 2)"], ["ROW(1, 2)", "ROW(2, 1)"], ["ROW(1, NULL)", "ROW(NULL, 1)"]] },
  { name: 'composite_renamed', expect: '=x', batchType: '$S.ab', streamType: '$S.xy', setup: 'CREATE TYPE $S.ab AS (a int, b int); CREATE TYPE $S.xy AS (x int, y int)', pairs: [["ROW(1, 2)", "ROW(1, 2)"], ["ROW(1, 2)", "ROW(2, 1)"]] },
  { name: 'xml', expect: 'xx=', batchType: 'xml', pairs: [["'<a/>'", "'<a></a>'"], ["'<a>x</a>'", "'<a>y</a>'"], ["'<a>x</a>'", "'<a>x</a>'"]] },
  { name: 'point', expect: '=xx', batchType: 'point', pairs: [["'(1,2)'", "'(1,2.0)'"], ["'(1,2)'", "'(1,3)'"], ["'(0,0)'", "'(-0,0)'"]] },
  { name: 'oid', expect: 'x=', batchType: 'oid', pairs: [['1', '2'], ['4294967295', '4294967295']] },
  { name: 'name', expect: 'x=', batchType: 'name', pairs: [["'abc'", "'abd'"], ["'abc'", "'abc'"]] },
  { name: 'char1', expect: 'x=', batchType: '"char"', pairs: [["'a'", "'b'"], ["'a'", "'a'"]] },
  { name: 'hstore', expect: '=x', batchType: 'hstore', setup: 'CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public', pairs: [["'a=>1,b=>2'", "'b=>2,a=>1'"], ["'a=>1'", "'a=>2'"]] },
  { name: 'box', expect: '=x', batchType: 'box', pairs: [["'(1,1),(0,0)'", "'(0,0),(1,1)'"], ["'(1,1),(0,0)'", "'(2,2),(0,0)'"]] },
  { name: 'pg_lsn', expect: 'x=', batchType: 'pg_lsn', pairs: [["'0/1'", "'0/2'"], ["'16/B374D848'", "'16/B374D848'"]] },
  // Values under a collation (or type) whose `=` equates different texts: always compared by their text.
  { name: 'ci_text', expect: 'xx=x', batchType: 'text COLLATE $S.ci', setup: CI, pairs: [["'A'", "'a'"], ["'a'", "'a '"], ["'a'", "'a'"], ["U&'\\00E9'", "U&'e\\0301'"]] },
  { name: 'cia_text', expect: 'xx=x', batchType: 'text COLLATE $S.cia', setup: CIA, pairs: [["'e'", "U&'\\00E9'"], ["'a'", "'A'"], ["'a'", "'a'"], ["U&'\\00E9'", "U&'e\\0301'"]] },
  { name: 'ci_varchar_text', expect: 'x=', batchType: 'varchar(5) COLLATE $S.ci', streamType: 'text', setup: CI, pairs: [["'A'", "'a'"], ["'a'", "'a'"]] },
  { name: 'ci_text_c', expect: 'x=', batchType: 'text COLLATE $S.ci', streamType: 'text COLLATE "C"', setup: CI, pairs: [["'A'", "'a'"], ["'a'", "'a'"]] },
  { name: 'ci_domain', expect: 'x=', batchType: '$S.d', setup: `${CI}; CREATE DOMAIN $S.d AS text COLLATE $S.ci`, pairs: [["'A'", "'a'"], ["'a'", "'a'"]] },
  { name: 'ci_char', expect: 'x=', batchType: 'char(3) COLLATE $S.ci', setup: CI, pairs: [["'A'", "'a'"], ["'a'", "'a'"]] },
  { name: 'ci_name', expect: 'x=', batchType: 'name COLLATE $S.ci', setup: CI, pairs: [["'A'", "'a'"], ["'a'", "'a'"]] },
  { name: 'ci_array', expect: 'x=', batchType: 'text[] COLLATE $S.ci', setup: CI, pairs: [["'{A}'", "'{a}'"], ["'{a}'", "'{a}'"]] },
  { name: 'ci_array_text_array', expect: 'x=', batchType: 'varchar[] COLLATE $S.ci', streamType: 'text[]', setup: CI, pairs: [["'{A}'", "'{a}'"], ["'{a}'", "'{a}'"]] },
  { name: 'ci_composite', expect: 'x=', batchType: '$S.ct', setup: `${CI}; CREATE TYPE $S.ct AS (t text COLLATE $S.ci)`, pairs: [["ROW('A')", "ROW('a')"], ["ROW('a')", "ROW('a')"]] },
  { name: 'ci_composite_text', expect: 'x=', batchType: '$S.ct', streamType: '$S.ct2', setup: `${CI}; CREATE TYPE $S.ct AS (t text COLLATE $S.ci, n numeric); CREATE TYPE $S.ct2 AS (t text, n numeric(5,2))`, pairs: [["ROW('A', 1)", "ROW('a', 1)"], ["ROW('a', 1)", "ROW('a', 1)"]] },
  { name: 'ci_range', expect: 'x=', batchType: '$S.tr', setup: `${CI}; CREATE TYPE $S.tr AS RANGE (subtype = text, collation = $S.ci)`, pairs: [["'[A,b)'", "'[a,b)'"], ["'[a,b)'", "'[a,b)'"]] },
  { name: 'citext_array', expect: 'x=', batchType: 'citext[]', setup: 'CREATE EXTENSION IF NOT EXISTS citext SCHEMA public', pairs: [["'{A}'", "'{a}'"], ["'{a}'", "'{a}'"]] },
  { name: 'citext_array_text_array', expect: 'x=', batchType: 'citext[]', streamType: 'text[]', setup: 'CREATE EXTENSION IF NOT EXISTS citext SCHEMA public', pairs: [["'{A}'", "'{a}'"], ["'{a}'", "'{a}'"]] },
  { name: 'enum_reordered', expect: '=x=', batchType: '$S.e1', streamType: '$S.e2', setup: ENUMS, pairs: [["'a'", "'a'"], ["'a'", "'b'"], ["'c'", "'c'"]] },
  { name: 'array_bounds', expect: 'x=x', batchType: 'int[]', streamType: 'int8[]', pairs: [["'[2:3]={1,2}'", "'{1,2}'"], ["'{1,2}'", "'{1,2}'"], ["'[0:1]={1,2}'", "'{1,2}'"]] },
  { name: 'interval_day_second', expect: 'xx=', batchType: 'interval', streamType: 'interval day to second', pairs: [["'1 day'", "'24 hours'"], ["'1 mon'", "'30 days'"], ["'1 day'", "'1 day'"]] },
  { name: 'interval_array', expect: 'x=', batchType: 'interval[]', pairs: [["'{\"1 day\"}'", "'{\"24 hours\"}'"], ["'{\"1 day\"}'", "'{\"1 day\"}'"]] },
  { name: 'jsonb_array_json_array', expect: 'x=', batchType: 'jsonb[]', streamType: 'json[]', pairs: [["ARRAY['{\"a\":1.0}'::jsonb]", "ARRAY['{\"a\":1}'::json]"], ["ARRAY['{\"a\":1}'::jsonb]", "ARRAY['{\"a\":1}'::json]"]] },
  { name: 'int4multirange', expect: '=x', batchType: 'int4multirange', pairs: [["'{[1,3),[3,5)}'", "'{[1,5)}'"], ["'{[1,3)}'", "'{[1,4)}'"]] },
  // Rows missing on one side, NULL vs empty string.
  { name: 'missing_rows', expect: 'xxx=', batchType: 'text', pairs: [["'x'", null], [null, "'y'"], ["''", 'NULL'], ["'z'", "'z'"]] },
  // A table without a primary key: duplicate rows.
  { name: 'dup_rows', expect: 'xxx', batchType: 'text', noPk: true, pairs: [["'x'", "'x'"], ["'y'", "'y'"], ["'w'", "'w'"]], extra: [['b', 1, "'x'"], ['b', 3, "'w'"], ['s', 3, "'w'"], ['s', 2, "'y2'"]] },
  { name: 'key_nullable', expect: '=x', otherKeys: 1, noPk: true, batchType: 'text', pairs: [["'x'", "'x'"], ["'y'", "'y2'"]], extra: [['b', -1, "'n1'"], ['s', -1, "'n2'"]] },
  // Key cases: the pairs are key values, `v` equal on both sides.
  { name: 'key_int8', otherKeys: 2, key: true, batchType: 'int8', pairs: [['9223372036854775807', '9223372036854775807'], ['9223372036854775806', null], ['-9223372036854775808', '-9223372036854775808'], [null, '4294967296'], ['0', '0']] },
  { name: 'key_int4_int8', otherKeys: 2, key: true, batchType: 'int4', streamType: 'int8', pairs: [['1', '1'], ['2', null], [null, '4294967298']] },
  {
    name: 'key_text', otherKeys: 6, key: true, batchType: 'text',
    pairs: [["'a'", "'a'"], ["'b'", "'B'"], ["'c '", "'c'"], ["U&'\\00E9'", "U&'e\\0301'"], ["'NULL'", "'NULL'"], ["'x,y'", "'x,y'"], ["' '", "' '"], ["''", "''"], ["'(1)'", "'(1)'"]],
  },
  { name: 'key_text_ci', otherKeys: 2, key: true, batchType: 'text COLLATE $S.ci', setup: "CREATE COLLATION $S.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)", pairs: [["'a'", "'A'"], ["'b'", "'b'"]] },
  { name: 'key_char', otherKeys: 2, key: true, batchType: 'char(4)', streamType: 'text', pairs: [["'a'", "'a'"], ["'b'", "'b '"]] },
  { name: 'key_uuid', otherKeys: 1, key: true, batchType: 'uuid', pairs: [["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"], ["'00000000-0000-0000-0000-000000000001'", null]] },
  { name: 'key_uuid_text', key: true, batchType: 'uuid', streamType: 'text', pairs: [["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"], ["'00000000-0000-0000-0000-000000000001'", "'00000000-0000-0000-0000-000000000001'"]] },
  { name: 'key_numeric', otherKeys: 1, key: true, batchType: 'numeric', pairs: [['1.0', '1.00'], ['2.5', '2.50'], ['3', null], ['1e20', '100000000000000000000']] },
  { name: 'key_numeric_int', key: true, batchType: 'numeric', streamType: 'int8', pairs: [['1.0', '1'], ['2', '2'], ['9223372036854775807', '9223372036854775807']] },
  { name: 'key_timestamptz', otherKeys: 1, key: true, batchType: 'timestamptz', pairs: [["'2020-01-01 12:00+02'", "'2020-01-01 10:00Z'"], ["'2020-01-01 12:00Z'", null]] },
  { name: 'key_date', otherKeys: 2, key: true, batchType: 'date', pairs: [["'2020-01-01'", "'2020-01-01'"], ["'2020-01-02'", "'2020-01-03'"]] },
  { name: 'key_composite', otherKeys: 3, key: true, batchType: 'int4', key2: { type1: 'int4', type2: 'text' }, pairs: [["1, 'a'", "1, 'a'"], ["1, 'b'", "1, 'B'"], ["2, 'a'", null], ["1, 'a,b'", "1, 'a,b'"]] },
  { name: 'key_composite_null_text', key: true, batchType: 'int4', key2: { type1: 'int4', type2: 'text' }, pairs: [["1, ''", "1, ''"], ["2, 'x'", "2, 'x'"]] },
  // Keys under a case-blind collation or type: 'a' and 'A' are two keys, whatever `=` says.
  { name: 'key_ci_text', otherKeys: 2, key: true, batchType: 'text COLLATE $S.ci', streamType: 'text', setup: CI, pairs: [["'a'", "'A'"], ["'b'", "'b'"]] },
  { name: 'key_citext', otherKeys: 2, key: true, batchType: 'citext', setup: 'CREATE EXTENSION IF NOT EXISTS citext SCHEMA public', pairs: [["'a'", "'A'"], ["'b'", "'b'"]] },
  { name: 'key_citext_text', otherKeys: 2, key: true, batchType: 'citext', streamType: 'text', setup: 'CREATE EXTENSION IF NOT EXISTS citext SCHEMA public', pairs: [["'a'", "'A'"], ["'b'", "'b'"]] },
  { name: 'key_ci_char', otherKeys: 2, key: true, batchType: 'char(3) COLLATE $S.ci', setup: CI, pairs: [["'a'", "'A'"], ["'b'", "'b'"]] },
  { name: 'key_ci_name', otherKeys: 2, key: true, batchType: 'name COLLATE $S.ci', setup: CI, pairs: [["'a'", "'A'"], ["'b'", "'b'"]] },
  { name: 'key_enum_reordered', key: true, batchType: '$S.e1', streamType: '$S.e2', setup: ENUMS, pairs: [["'a'", "'a'"], ["'c'", "'c'"]] },
  { name: 'key_interval', otherKeys: 2, key: true, batchType: 'interval', pairs: [["'1 day'", "'24 hours'"], ["'1 mon'", "'1 mon'"]] },
  { name: 'key_numrange', otherKeys: 2, key: true, batchType: 'numrange', pairs: [["'[1.0,2)'", "'[1,2)'"], ["'[3,4)'", "'[3,4)'"]] },
  { name: 'key_float_zero', key: true, batchType: 'float8', pairs: [["'-0'", "'0'"], ['1', '1']] },
  // Added by probe-peers3: keys of float and numeric specials, bytes, delimiters inside two text parts, upper-case uuid text.
  { name: 'key_float_special', otherKeys: 2, key: true, batchType: 'float8', pairs: [["'NaN'", "'NaN'"], ["'Infinity'", "'-Infinity'"], ['1e308', '1e308'], ['5e-324', '5e-324']] },
  { name: 'key_float4_float8', otherKeys: 2, key: true, batchType: 'float4', streamType: 'float8', pairs: [['0.5', '0.5'], ['0.25', '0.3'], ["'NaN'", "'NaN'"], ["'-0'", '0']] },
  { name: 'key_numeric_special', otherKeys: 2, key: true, batchType: 'numeric', pairs: [["'NaN'", "'NaN'"], ["'Infinity'", "'-Infinity'"], ['0.0', '0']] },
  { name: 'key_bytea', otherKeys: 2, key: true, batchType: 'bytea', pairs: [["'\\x00'", "'\\x0000'"], ["'\\xdead'", "'\\xDEAD'"], ["''", "''"]] },
  { name: 'key_composite_delims', otherKeys: 4, key: true, batchType: 'text', key2: { type1: 'text', type2: 'text' }, pairs: [["'a|b', 'c'", "'a', 'b|c'"], ["'a,b', 'c'", "'a', 'b,c'"], ["'(x', ')'", "'(x', ')'"], ["'\"', ''", "'\"', ''"]] },
  { name: 'key_uuid_text_upper', otherKeys: 2, key: true, batchType: 'uuid', streamType: 'text', pairs: [["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"], ["'00000000-0000-0000-0000-000000000001'", "'00000000-0000-0000-0000-000000000001'"]] },
];
