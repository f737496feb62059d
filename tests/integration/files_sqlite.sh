# SQLite -> files (docs/files.md): CSV, JSON Lines, gzip and zstd parts,
# one per chunk; the manifest's SHA-256s and row counts; every value read
# back by DuckDB (an independent reader) and compared with the source;
# NULL against the empty string; kill -9 mid-run and a resume give exactly
# one copy of every row; re-runs replace parts; a folder of another
# format is refused, and --mode truncate replaces it.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/files.bash"

sqlite3 src.db "
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, note TEXT, big INTEGER,
	b BLOB, d DATE, ts TIMESTAMP);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO t SELECT i,
	CASE i % 7 WHEN 0 THEN 'comma, here' WHEN 1 THEN 'quote \"q\" here'
		WHEN 2 THEN 'line' || char(10) || 'break' || char(13) || char(10) || 'crlf'
		WHEN 3 THEN 'été ✓ 😀' WHEN 4 THEN '' WHEN 5 THEN NULL
		ELSE 'tab' || char(9) || 'back\\slash \\N' END,
	CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' ELSE 'n' || i END,
	CASE i % 4 WHEN 0 THEN 9223372036854775807 WHEN 1 THEN -9223372036854775808
		WHEN 2 THEN 9007199254740993 ELSE i END,
	CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN x'' ELSE randomblob(i % 9) END,
	date('2000-01-01', '+' || i || ' days'),
	CASE WHEN i % 6 = 0 THEN NULL ELSE datetime('2020-02-29 23:59:59', '+' || (i * 3607) || ' seconds') END
FROM n;
CREATE TABLE e(id INTEGER PRIMARY KEY, v TEXT);"

want=$(sqlite3 src.db "SELECT $(sq_esc id) || char(9) || $(sq_esc name) || char(9) || $(sq_esc note)
	|| char(9) || $(sq_esc big) || char(9) || CASE WHEN b IS NULL THEN '\\N' ELSE '\\\\x' || lower(hex(b)) END
	|| char(9) || $(sq_esc d) || char(9) || $(sq_esc ts) FROM t" | LC_ALL=C sort | md5sum)

csv_cols="{'id':'BIGINT','name':'VARCHAR','note':'VARCHAR','big':'BIGINT','b':'VARCHAR','d':'DATE','ts':'TIMESTAMP'}"
read_sql() { # read_sql FROM-CLAUSE
	echo "SELECT id, name, note, big, b, d, strftime(ts, '%Y-%m-%d %H:%M:%S') FROM $1"
}

# ---- CSV, plain ----
expect_exit 0 "csv export" "$BARGE" copy sqlite:src.db "file:out?format=csv" \
	--state st.db --chunk-rows 500 --no-progress
check "csv: one part per chunk" [ "$(ls out/t/part-*.csv | wc -l)" = 6 ]
check "csv: part names sort in key order" [ "$(ls out/t/ | grep '^part-' | head -1)" = part-000000.csv ]
check "csv: parts are 0600" [ "$(stat -c %a out/t/part-000000.csv)" = 600 ]
check "csv: header line" [ "$(head -1 out/t/part-000000.csv)" = "id,name,note,big,b,d,ts" ]
check "csv: a field with a line break is quoted" grep -qx '2,"line' out/t/part-000000.csv
check "csv: NULL unquoted empty, empty string \"\"" \
	grep -q '^10,été ✓ 😀,"",9007199254740993,,2000-01-11,' out/t/part-000000.csv
check "csv: a NULL text" grep -q '^5,,n5,' out/t/part-000000.csv
check "csv: no temporary file left" [ -z "$(ls -A out/t | grep tmp)" ]
check "csv: the empty table has one part of a header" \
	[ "$(cat out/e/part-000000.csv)" = "id,v" ]
check "csv: manifest matches the files" manifest_ok out t 3000
check "csv: manifest lists the empty table" manifest_ok out e 0

if have_duckdb; then
	got=$(duckdb_rows "$(read_sql "read_csv('out/t/part-*.csv', header=true, allow_quoted_nulls=false, columns=$csv_cols)")" | md5sum)
	check "csv: DuckDB reads every value back as in the source" [ "$got" = "$want" ]
else
	echo "SKIP: DuckDB (tests/node, @duckdb/node-api) is not installed: scripts/bootstrap installs it" >&2
fi

# ---- JSON Lines, gzip; CSV, zstd ----
expect_exit 0 "jsonl.gz export" "$BARGE" copy sqlite:src.db "file:outj?format=jsonl&compression=gzip" \
	--state st.db --chunk-rows 1000 --no-progress
check "jsonl.gz: parts are gzip" [ "$(zcat outj/t/part-000000.jsonl.gz | head -1 | cut -c1-8)" = '{"id":1,' ]
check "jsonl.gz: exact int64 beyond 2^53" zgrep -q '"big":9007199254740993,' outj/t/part-000000.jsonl.gz
check "jsonl.gz: manifest matches" manifest_ok outj t 3000
expect_exit 0 "csv.zst export" "$BARGE" copy sqlite:src.db "file:outz?format=csv&compression=zstd&level=9" \
	--state st.db --chunk-rows 1000 --no-progress
check "csv.zst: parts are zstd" [ "$(zstdcat outz/t/part-000002.csv.zst | head -1)" = "id,name,note,big,b,d,ts" ]
check "csv.zst: manifest matches" manifest_ok outz t 3000
if have_duckdb; then
	# bytes are base64 in JSON Lines: DuckDB's from_base64 turns them back
	got=$(duckdb_rows "SELECT id, name, note, big, CASE WHEN b IS NULL THEN NULL ELSE '\\x' || lower(hex(from_base64(b))) END, d, strftime(ts, '%Y-%m-%d %H:%M:%S') FROM read_json('outj/t/part-*.jsonl.gz', format='newline_delimited', columns={'id':'BIGINT','name':'VARCHAR','note':'VARCHAR','big':'BIGINT','b':'VARCHAR','d':'DATE','ts':'TIMESTAMP'})" | md5sum)
	check "jsonl.gz: DuckDB reads every value back as in the source" [ "$got" = "$want" ]
	got=$(duckdb_rows "$(read_sql "read_csv('outz/t/part-*.csv.zst', header=true, allow_quoted_nulls=false, compression='zstd', columns=$csv_cols)")" | md5sum)
	check "csv.zst: DuckDB reads every value back as in the source" [ "$got" = "$want" ]
fi

# ---- re-runs replace parts ----
sum_before=$(cat out/t/part-* | md5sum)
expect_exit 0 "restart over the csv folder" "$BARGE" copy sqlite:src.db "file:out?format=csv" \
	--state st.db --chunk-rows 500 --restart --no-progress
check "restart: the same six parts, not twelve" [ "$(ls out/t/part-* | wc -l)" = 6 ]
check "restart: the same bytes" [ "$(cat out/t/part-* | md5sum)" = "$sum_before" ]
"$BARGE" init sqlite:src.db "file:out?format=csv" >plan.yaml 2>/dev/null
rm out/t/part-000003.csv
expect_exit 0 "run --table t --chunk 3" "$BARGE" run plan.yaml --state st.db --table t \
	--chunk 3 --no-progress
check "--chunk 3: the part is back" [ -f out/t/part-000003.csv ]
check "--chunk 3: the same bytes" [ "$(cat out/t/part-* | md5sum)" = "$sum_before" ]
check "--chunk 3: still six parts" [ "$(ls out/t/part-* | wc -l)" = 6 ]

# ---- another format in the same folder ----
expect_exit 1 "jsonl into a csv folder is refused" "$BARGE" copy sqlite:src.db \
	"file:out?format=jsonl" --state st2.db --no-progress
check "refusal names what to do" grep -q "holds csv parts.*--mode truncate" "$WORK/last.out" "$WORK/last.err"
expect_exit 0 "--mode truncate replaces them" "$BARGE" copy sqlite:src.db \
	"file:out?format=jsonl" --state st3.db --mode truncate --chunk-rows 500 --no-progress
check "truncate: only jsonl parts" [ "$(ls out/t | grep -c '^part-.*csv')" = 0 ]
check "truncate: six jsonl parts" [ "$(ls out/t/part-*.jsonl | wc -l)" = 6 ]
check "truncate: manifest matches" manifest_ok out t 3000
check "truncate: manifest says jsonl" grep -q '"format":"jsonl"' out/manifest.json
# each part's canonical digest is the one the state store recorded for
# its chunk (read from the source): the manifest proves the parts
check "manifest digests = the run's chunk digests" [ \
	"$(sqlite3 st3.db "SELECT table_name || '/' || printf('part-%06d.jsonl', seq) || ' ' || digest FROM units WHERE status = 'done'" | sort)" = \
	"$(node -e 'const m = JSON.parse(require("fs").readFileSync("out/manifest.json", "utf8"));
for (const t of m.tables) for (const p of t.parts) console.log(p.file + " " + p.digest);' | sort)" ]

# ---- kill -9 mid-run, then resume: exactly one copy of every row ----
sqlite3 big.db "CREATE TABLE k(id INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO k SELECT i, printf('row %d, \"%d\"', i, i * 7) FROM n;"
killed=0
for round in 1 2 3; do
	"$BARGE" copy sqlite:big.db "file:kout?format=csv&compression=gzip" --state kst.db \
		--jobs 2 --chunk-rows 2000 --batch-rows 500 --no-progress --quiet >/dev/null 2>&1 &
	pid=$!
	# wait (bounded) until more parts are in place than before, then kill
	have=$(ls kout/k 2>/dev/null | grep -c '^part-' || true)
	for _ in $(seq 1 2000); do
		now=$(ls kout/k 2>/dev/null | grep -c '^part-' || true)
		[ "$now" -ge $((have + 5)) ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.01
	done
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
done
check "killed mid-run ($killed times)" [ "$killed" -ge 2 ]
expect_exit 0 "resume after kill -9" "$BARGE" copy sqlite:big.db "file:kout?format=csv&compression=gzip" \
	--state kst.db --jobs 2 --chunk-rows 2000 --no-progress
check "kill: one run resumed" [ "$(sqlite3 kst.db 'SELECT count(*) FROM runs')" = 1 ]
check "kill: 100 parts" [ "$(ls kout/k/part-* | wc -l)" = 100 ]
check "kill: no temporary part left" [ -z "$(ls -A kout/k | grep '\.tmp$')" ]
check "kill: manifest matches" manifest_ok kout k 200000
check "kill: exactly one copy of every row" [ "$(zcat kout/k/part-* | grep -v '^id,v$' | LC_ALL=C sort | md5sum)" = \
	"$(sqlite3 -csv big.db 'SELECT * FROM k' | LC_ALL=C sort | md5sum)" ]
if have_duckdb; then
	check "kill: DuckDB counts 200000 distinct ids" [ "$(duckdb_rows "SELECT count(*), count(DISTINCT id) FROM read_csv('kout/k/part-*.csv.gz', header=true)")" = "200000	200000" ]
fi
finish
