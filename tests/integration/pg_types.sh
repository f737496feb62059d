# Every value PostgreSQL can hold that issue 3 lists copies PG -> PG exactly,
# into a schema barge creates and into a pre-made one: COPY ... TO STDOUT
# of source and target, ordered by key, are byte-identical. Text keys walk
# in binary order; re-running each mode leaves the target unchanged.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

DDL_TYPES="
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);"
DDL_T="
CREATE TABLE t (
 id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint,
 n numeric, n2 numeric(12,2), f4 real, f8 double precision,
 tx text, vc varchar(10), ch char(5), ba bytea, b boolean,
 d date, tm time, ts timestamp, ts3 timestamp(3), tz timestamptz,
 iv interval, u uuid, j json, jb jsonb, arr int[], tarr text[], m mood,
 p posint);
CREATE TABLE k (name text, n int, v text, PRIMARY KEY (name, n));"

pg_fresh pgt_src
pg_sql pgt_src "$DDL_TYPES $DDL_T" >/dev/null
pg_sql pgt_src "
INSERT INTO t VALUES
 (1, -32768, -2147483648, -9223372036854775808, 'NaN', 0.00, 'NaN', 'NaN', '', '', '', '\\x', false,
  '0001-01-01', '00:00', '4713-01-01 BC', '2000-01-01 00:00:00.123', '-infinity',
  '-178000000 years', '00000000-0000-0000-0000-000000000000', '{}', '{}', '{}', '{}', 'sad', 1),
 (2, 32767, 2147483647, 9223372036854775807,
  '123456789012345678901234567890.123456789012345678901234567890', -1234567890.12,
  'Infinity', '-Infinity', 'héllo wörld ☃ \"q\" ''s''', 'abcdefghij', 'ab', '\\x00ff00', true,
  '5874897-12-31', '24:00:00', '294246-12-31 23:59:59.999999', '1999-12-31 23:59:59.999', 'infinity',
  '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{\"b\": 1,   \"a\": [1,2] }', '{\"b\": 1, \"a\": [1,2]}', '{1,NULL,3}', '{\"a b\",NULL,\"\\\\\"}', 'happy', 2147483647),
 (3, 0, 0, 0, '-0.000000000000000000000000000001', 1e9, '-0', '-0', E'line1\\nline2\\ttab\\\\back',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-02-29 12:34:56.789012+05:30',
  NULL, NULL, NULL, NULL, '{{1,2},{3,4}}', NULL, NULL, NULL),
 (4, NULL, NULL, NULL, 'Infinity', NULL, 1.17549435e-38, 4.9e-324, NULL, NULL, NULL, NULL, NULL,
  '1970-01-01', '12:00:00.000001', '1970-01-01 00:00:00', NULL, '1969-12-31 23:59:59.999999+00',
  NULL, NULL, 'null', 'null', NULL, NULL, 'ok', NULL),
 (5, 1, 1, 1, '-Infinity', -0.01, 3.4028235e38, 1.7976931348623157e308, 'x', 'x', 'x',
  decode(repeat('00ff', 300000), 'hex'), true, '2001-02-29 BC', '23:59:59.999999',
  '2024-01-01 00:00:00.5', '2024-01-01 00:00:00.001', '0001-01-01 00:00:00+14',
  '-1 days +02:00:00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '[1, 2.50, \"\\\\u0000\"]',
  '{\"k\": [true, false, null, 1.0e3]}', '{NULL}', '{NULL,\"\"}', 'ok', 5),
 (6, NULL, NULL, NULL, '0.1', 99.99, 1.4e-45, 2.2250738585072014e-308,
  repeat('long text ', 100000), NULL, 'abcde', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t (id) SELECT g FROM generate_series(7, 40) g;
INSERT INTO k SELECT x, g, x || g FROM unnest(ARRAY['a','B','é','Z','ab','A','zz','É','a b','']) x,
  generate_series(1, 3) g;" >/dev/null

copy_to() { # copy_to DB STATE [options]: copy both tables
	local db=$1 st=$2; shift 2
	"$BARGE" copy "$(pg_url pgt_src)" "$(pg_url "$db")" --state "$st" \
		--chunk-rows 4 --batch-rows 3 --no-progress "$@"
}

# 1. A schema barge creates (the enum and domain types are created there
#    too: every column keeps its type).
pg_fresh pgt_new
expect_exit 0 "copy into a new schema" copy_to pgt_new st_new.db --jobs 2
check "t byte-identical (created)" pg_same pgt_src pgt_new t id
check "k byte-identical (created)" pg_same pgt_src pgt_new k 'name COLLATE "C", n'
coltypes() { pg_val "$1" "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0"; }
check "typmods, arrays, jsonb, enums and domains kept" [ "$(coltypes pgt_new)" = "$(coltypes pgt_src)" ]
check "primary key created" [ "$(pg_val pgt_new "SELECT count(*) FROM pg_index WHERE indrelid = 'k'::regclass AND indisprimary AND indnatts = 2")" = 1 ]
check "text keys chunked (several chunks)" [ "$(sqlite3 st_new.db "SELECT count(*) FROM units WHERE table_name = 'k'" 2>/dev/null || sqlite3 st_new.db "SELECT count(*) FROM units")" -gt 2 ]

# 2. A pre-made schema with the enum and domain types.
pg_fresh pgt_pre
pg_sql pgt_pre "$DDL_TYPES $DDL_T" >/dev/null
expect_exit 0 "copy into a pre-made schema" copy_to pgt_pre st_pre.db
check "t byte-identical (pre-made)" pg_same pgt_src pgt_pre t id
check "k byte-identical (pre-made)" pg_same pgt_src pgt_pre k 'name COLLATE "C", n'
check "enum kept" [ "$(pg_val pgt_pre "SELECT m FROM t WHERE id = 2")" = happy ]

# 3. Re-running each mode over the finished target changes nothing.
before=$(pg_dump_table pgt_pre t id | md5sum)
for mode in upsert replace truncate; do
	expect_exit 0 "$mode: re-run" copy_to pgt_pre st_pre.db --mode $mode --restart
	check "$mode: t unchanged" [ "$before" = "$(pg_dump_table pgt_pre t id | md5sum)" ]
	check "$mode: k identical" pg_same pgt_src pgt_pre k 'name COLLATE "C", n'
done
expect_exit 1 "insert: --restart over a full target fails" copy_to pgt_pre st_pre.db --mode insert --restart
check "insert: the conflict is named" grep -qi 'conflict\|unique\|exists' "$WORK/last.out" "$WORK/last.err"
check "insert: unchanged" [ "$before" = "$(pg_dump_table pgt_pre t id | md5sum)" ]

# 4. Upsert carries changes and replace carries deletes.
pg_sql pgt_src "UPDATE t SET tx = 'changed' WHERE id = 3; DELETE FROM t WHERE id = 9" >/dev/null
expect_exit 0 "replace after a change" copy_to pgt_pre st_rep.db --mode replace
check "replace carried the update and the delete" pg_same pgt_src pgt_pre t id
finish
