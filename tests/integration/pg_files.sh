# PostgreSQL -> JSON Lines and CSV (docs/files.md): numbers exact (a
# numeric of 60 digits, int64 extremes), bytes base64, timestamps ISO
# 8601 with their offset, JSON embedded; two workers on one snapshot;
# DuckDB reads the parts back and every value equals the source's.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"
. "$HERE/files.bash"

pg_fresh pgf_src
pg_sql pgf_src "
CREATE TABLE t (id int PRIMARY KEY, n numeric, i8 bigint, f8 double precision,
	tx text, ba bytea, b boolean, d date, ts timestamp, tz timestamptz, u uuid,
	jb jsonb);
INSERT INTO t VALUES
 (1, '123456789012345678901234567890.123456789012345678901234567890',
  -9223372036854775808, 1.5, 'héllo \"q\" ''s'' ☃', '\\x00ff10', true, '0001-01-01',
  '2000-01-01 00:00:00.123456', '2024-02-29 12:34:56.789012+05:30',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"b\": 1, \"a\": [1, 2.50]}'),
 (2, '-0.000000000000000000000000000001', 9223372036854775807, -2.25, '', '\\x', false,
  '9999-12-31', '9999-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999+00',
  NULL, '\"text\"'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t SELECT g, g * 1.01, g::bigint * 1000000007, g / 8.0, 'row ' || g,
	decode(lpad(to_hex(g), 8, '0'), 'hex'), g % 2 = 0, date '2020-01-01' + g,
	timestamp '2020-01-01' + g * interval '1 minute 1.5 second',
	timestamptz '2020-01-01 00:00+00' + g * interval '77 seconds',
	md5(g::text)::uuid, jsonb_build_object('g', g, 'h', 'x' || g)
FROM generate_series(4, 20000) g;" >/dev/null

expect_exit 0 "pg -> jsonl.zst, two workers" "$BARGE" copy "$(pg_url pgf_src)" \
	"file:out?format=jsonl&compression=zstd" --state st.db --jobs 2 --chunk-rows 4000 \
	--no-progress
check "jsonl: parts" [ "$(ls out/t/part-*.jsonl.zst | wc -l)" -ge 5 ]
check "jsonl: manifest matches" manifest_ok out t 20000
first=$(zstdcat out/t/part-000000.jsonl.zst | head -3)
check "jsonl: a 60-digit numeric exactly" grep -qF '"n":123456789012345678901234567890.123456789012345678901234567890,' <<<"$first"
check "jsonl: int64 extremes exactly" grep -qF '"i8":9223372036854775807,' <<<"$first"
check "jsonl: tiny decimal exactly" grep -qF '"n":-0.000000000000000000000000000001,' <<<"$first"
check "jsonl: bytes in base64" grep -qF '"ba":"AP8Q"' <<<"$first"
check "jsonl: timestamptz in UTC with its offset" grep -qF '"tz":"2024-02-29T07:04:56.789012+00:00"' <<<"$first"
check "jsonl: naive timestamp without one" grep -qF '"ts":"2000-01-01T00:00:00.123456"' <<<"$first"
check "jsonl: jsonb embedded, canonical" grep -qF '"jb":{"a":[1,2.5],"b":1}' <<<"$first"
check "jsonl: NULLs are null" grep -qF '{"id":3,"n":null,"i8":null' <<<"$first"
check "jsonl: engine types in the manifest" grep -qF '"engine_type":"numeric"' out/manifest.json

expect_exit 0 "pg -> jsonl numbers=string" "$BARGE" copy "$(pg_url pgf_src)" \
	"file:outs?format=jsonl&numbers=string" --state st.db --no-progress
check "numbers=string: decimals as strings" grep -qF '"n":"-0.000000000000000000000000000001"' outs/t/part-000000.jsonl
check "numbers=string: int64 past 2^53 as a string" grep -qF '"i8":"9223372036854775807"' outs/t/part-000000.jsonl
check "numbers=string: small int64 stays a number" grep -qF '"i8":4000000028,' outs/t/part-000000.jsonl

expect_exit 0 "pg -> csv.gz" "$BARGE" copy "$(pg_url pgf_src)" \
	"file:outc?format=csv&compression=gzip" --state st.db --jobs 2 --chunk-rows 4000 --no-progress
check "csv: manifest matches" manifest_ok outc t 20000

# The source's values, escaped as duckdb_query.mjs prints them (COPY's
# text format escapes the same way): numeric and text as text, bytes as
# hex, timestamps with microseconds, timestamptz in UTC.
want=$("${PSQL[@]}" -d pgf_src -c "\\copy (SELECT id, n::text, i8, f8, tx,
	CASE WHEN ba IS NULL THEN NULL ELSE encode(ba, 'hex') END,
	CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END, to_char(d, 'YYYY-MM-DD'),
	to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'),
	to_char(tz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), u::text FROM t) TO STDOUT" |
	LC_ALL=C sort | md5sum)
sel="id, n, i8, f8, tx, hex_ba, b, strftime(d, '%Y-%m-%d'), strftime(ts, '%Y-%m-%d %H:%M:%S.%f'), strftime(tz, '%Y-%m-%d %H:%M:%S.%f'), u"
if have_duckdb; then
	# DuckDB reads JSON numbers through doubles (a 30-digit numeric comes
	# back as 1.2345678901234568e+29): numbers=string is for such readers
	got=$(duckdb_rows "SELECT $sel FROM (SELECT *, CASE WHEN ba IS NULL THEN NULL ELSE lower(hex(from_base64(ba))) END AS hex_ba, CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END AS b FROM read_json('outs/t/part-*.jsonl', format='newline_delimited', columns={'id':'BIGINT','n':'VARCHAR','i8':'BIGINT','f8':'DOUBLE','tx':'VARCHAR','ba':'VARCHAR','b':'BOOLEAN','d':'DATE','ts':'TIMESTAMP','tz':'TIMESTAMP','u':'VARCHAR','jb':'JSON'}))" | md5sum)
	check "jsonl, numbers=string: DuckDB reads every value back as in the source" [ "$got" = "$want" ]
	got=$(duckdb_rows "SELECT $sel FROM (SELECT *, CASE WHEN ba IS NULL THEN NULL ELSE lower(replace(ba, '\\x', '')) END AS hex_ba, CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END AS b FROM read_csv('outc/t/part-*.csv.gz', header=true, allow_quoted_nulls=false, columns={'id':'BIGINT','n':'VARCHAR','i8':'BIGINT','f8':'DOUBLE','tx':'VARCHAR','ba':'VARCHAR','b':'BOOLEAN','d':'DATE','ts':'TIMESTAMP','tz':'TIMESTAMP','u':'VARCHAR','jb':'VARCHAR'}))" | md5sum)
	check "csv: DuckDB reads every value back as in the source" [ "$got" = "$want" ]
else
	echo "SKIP: DuckDB (tests/node, @duckdb/node-api) is not installed: scripts/bootstrap installs it" >&2
fi
finish
