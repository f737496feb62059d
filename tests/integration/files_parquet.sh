# SQLite -> Parquet parts (docs/files.md, docs/parquet.md): one Parquet
# file per chunk, the URL's compression as the pages' codec (snappy,
# zstd), the manifest's SHA-256s of the files as written; every value
# read back by DuckDB (an independent reader) and compared with the
# source; a re-run replaces parts; a column of no single type is refused
# in one line before anything is written.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/files.bash"

files_source src.db
sqlite3 src.db "ALTER TABLE t ADD COLUMN f REAL;
UPDATE t SET f = CASE WHEN id % 8 = 0 THEN NULL ELSE id / 8.0 - 100 END;"

want=$(sqlite3 src.db "SELECT $(sq_esc id) || char(9) || $(sq_esc name) || char(9) || $(sq_esc note)
	|| char(9) || $(sq_esc big) || char(9) || CASE WHEN b IS NULL THEN '\\N' ELSE '\\\\x' || lower(hex(b)) END
	|| char(9) || $(sq_esc d) || char(9) || $(sq_esc ts) || char(9) || $(sq_esc "CASE WHEN f IS NULL THEN NULL ELSE printf('%.3f', f) END") FROM t" |
	LC_ALL=C sort | md5sum)
read_sql() { # read_sql FILES
	echo "SELECT id, name, note, big, CASE WHEN b IS NULL THEN NULL ELSE '\\x' || lower(hex(b)) END, d, strftime(ts, '%Y-%m-%d %H:%M:%S'), printf('%.3f', f) FROM read_parquet('$1')"
}

for codec in snappy zstd; do
	out=out_$codec
	expect_exit 0 "parquet ($codec) export" "$BARGE" copy sqlite:src.db \
		"file:$out?format=parquet&compression=$codec" --state st.db --chunk-rows 500 --no-progress
	check "$codec: one part per chunk, .parquet only" [ "$(ls $out/t/part-*.parquet | wc -l)" = 6 ]
	check "$codec: parts are Parquet files" [ "$(head -c4 $out/t/part-000000.parquet)" = PAR1 ]
	check "$codec: parts are 0600" [ "$(stat -c %a $out/t/part-000000.parquet)" = 600 ]
	check "$codec: no temporary file left" [ -z "$(ls -A $out/t | grep tmp)" ]
	check "$codec: manifest matches the files" manifest_ok $out t 3000
	check "$codec: manifest lists the empty table" manifest_ok $out e 0
	check "$codec: manifest says parquet, $codec" \
		grep -q "\"format\":\"parquet\",\"compression\":\"$codec\"" $out/manifest.json
	if have_duckdb; then
		got=$(duckdb_rows "$(read_sql "$out/t/part-*.parquet")" | md5sum)
		check "$codec: DuckDB reads every value back as in the source" [ "$got" = "$want" ]
		check "$codec: every column chunk is ${codec^^}" [ \
			"$(duckdb_rows "SELECT DISTINCT compression FROM parquet_metadata('$out/t/part-*.parquet')")" = "${codec^^}" ]
		check "$codec: native column types" [ \
			"$(duckdb_rows "SELECT string_agg(column_type, ',' ORDER BY column_name) FROM (DESCRIBE SELECT * FROM read_parquet('$out/t/part-000000.parquet'))")" = \
			"BLOB,BIGINT,DATE,DOUBLE,BIGINT,VARCHAR,VARCHAR,TIMESTAMP" ]
		check "$codec: the empty table is one file of no rows" [ \
			"$(duckdb_rows "SELECT count(*) FROM read_parquet('$out/e/part-000000.parquet')")" = 0 ]
	else
		echo "SKIP: DuckDB (tests/node, @duckdb/node-api) is not installed: scripts/bootstrap installs it" >&2
	fi
done

# ---- re-runs replace parts ----
sum_before=$(cat out_zstd/t/part-* | md5sum)
expect_exit 0 "restart over the parquet folder" "$BARGE" copy sqlite:src.db \
	"file:out_zstd?format=parquet&compression=zstd" --state st.db --chunk-rows 500 --restart --no-progress
check "restart: the same six parts, not twelve" [ "$(ls out_zstd/t/part-* | wc -l)" = 6 ]
check "restart: the same bytes" [ "$(cat out_zstd/t/part-* | md5sum)" = "$sum_before" ]
check "restart: manifest matches" manifest_ok out_zstd t 3000
expect_exit 1 "snappy parts into a zstd folder are refused" "$BARGE" copy sqlite:src.db \
	"file:out_zstd?format=parquet&compression=snappy" --state st2.db --no-progress
check "refusal names what to do" grep -q "holds parquet parts.*--mode truncate" "$WORK/last.out" "$WORK/last.err"

# ---- options Parquet does not take, a column it cannot hold ----
expect_exit 2 "snappy is for parquet only" "$BARGE" copy sqlite:src.db \
	"file:outc?format=csv&compression=snappy" --state st3.db --no-progress
check "snappy: one line" grep -q "compression=snappy is for format=parquet only" "$WORK/last.err"
sqlite3 any.db "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO a VALUES (1, 'x');
CREATE TABLE u(id INTEGER PRIMARY KEY, v); INSERT INTO u VALUES (1, 'x'), (2, 3);"
expect_exit 2 "a column of no declared type is refused" "$BARGE" copy sqlite:any.db \
	"file:outa?format=parquet" --state st4.db --no-progress
check "refusal: one line naming the column" grep -q "table 'u'.*column \"v\" has no single type" "$WORK/last.err"
check "refusal: no part written" [ -z "$(find outa -name 'part-*' 2>/dev/null)" ]
finish
