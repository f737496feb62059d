# Secondary indexes from another engine: a SQLite source's indexes on plain
# columns (CREATE INDEX, UNIQUE) are made on the PostgreSQL tables barge
# creates, after the data, under their own names; indexes on expressions,
# partial ones and those on a column the job does not copy are left out.
# barge inspect lists the indexes of both engines.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

sqlite3 src.db < "$HERE/fixtures/indexed_people.sql"

expect_exit 0 "inspect sqlite" "$BARGE" inspect sqlite:src.db
check "inspect lists the plain-column indexes" \
	grep -q "people_ab (a, b)" "$WORK/last.out"
check "inspect lists UNIQUE as a unique index" \
	grep -q "sqlite_autoindex_people_1 unique (email)" "$WORK/last.out"
check "inspect leaves out expression and partial indexes" \
	test "$(grep -c -E "people_lower_c|people_c_part" "$WORK/last.out")" = 0
expect_exit 0 "inspect sqlite --format json" "$BARGE" inspect sqlite:src.db --format json
check "json lists the unique index" \
	grep -q '"name":"people_b_c","unique":true,"columns":\["b","c"\]' "$WORK/last.out"

pg_fresh pgi_dst
idx() { pg_val pgi_dst "SELECT indexname || ' ' || indexdef FROM pg_indexes
	WHERE tablename = 'people' AND indexname <> 'people_pkey' ORDER BY 1"; }
expect_exit 0 "SQLite -> PG" "$BARGE" copy sqlite:src.db "$(pg_url pgi_dst)" \
	--state st1.db --jobs 2 --chunk-rows 500 --no-progress
check "rows copied" [ "$(pg_val pgi_dst "SELECT count(*) FROM people")" = 2000 ]
check "three indexes made" [ "$(idx | wc -l)" = 3 ]
check "plain index (a, b)" grep -q "people_ab CREATE INDEX people_ab ON public.people USING btree (a, b)" <(idx)
check "unique index (email)" grep -q "UNIQUE INDEX sqlite_autoindex_people_1 ON public.people USING btree (email)" <(idx)
check "unique index (b, c)" grep -q "UNIQUE INDEX people_b_c ON public.people USING btree (b, c)" <(idx)
refused() { ! pg_sql "$@" >/dev/null 2>&1; }
check "the unique index is enforced" \
	refused pgi_dst "INSERT INTO people VALUES (5000, 'p1@x', 0, 'x', 'y')"
expect_exit 0 "re-run changes nothing" "$BARGE" copy sqlite:src.db "$(pg_url pgi_dst)" \
	--state st1.db --jobs 2 --chunk-rows 500 --no-progress --restart --mode replace
check "still three indexes" [ "$(idx | wc -l)" = 3 ]

# a column not copied (a plan skips it): its indexes are left out
pg_fresh pgi_dst2
cat >plan.yaml <<EOT
source: sqlite:src.db
target: $(pg_url pgi_dst2)
state: st2.db
tables:
  - name: people
    columns:
      c: {skip: true}
EOT
expect_exit 0 "SQLite -> PG without column c" "$BARGE" run plan.yaml --no-progress
check "only the indexes whose columns are all there" [ "$(pg_val pgi_dst2 "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'people'")" = "people_ab,people_pkey,sqlite_autoindex_people_1" ]

expect_exit 0 "inspect postgres" "$BARGE" inspect "$(pg_url pgi_dst)"
check "inspect lists PostgreSQL's indexes" grep -q "people_b_c unique (b, c)" "$WORK/last.out"

finish
