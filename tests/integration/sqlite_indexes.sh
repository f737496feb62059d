# SQLite -> SQLite: the source's secondary indexes on plain columns are
# made on the tables barge creates, after the data (a UNIQUE constraint's
# index, whose sqlite_autoindex name SQLite keeps for itself, as
# T_cols_key); expression and partial indexes are left out.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"

sqlite3 src.db "
CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
	a INTEGER, b TEXT, c TEXT);
CREATE INDEX people_ab ON people (a, b);
CREATE INDEX people_lower_c ON people (lower(c));
CREATE INDEX people_c_part ON people (c) WHERE c IS NOT NULL;
CREATE UNIQUE INDEX people_b_c ON people (b, c);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000)
INSERT INTO people SELECT n, 'p' || n || '@x', n % 7, 'b' || n, 'c' || n FROM g;"

idx() { sqlite3 dst.db "SELECT l.name || ' ' || group_concat(i.name, ',') FROM pragma_index_list('people') l,
	pragma_index_info(l.name) i WHERE l.origin <> 'pk' GROUP BY l.name ORDER BY l.name"; }
expect_exit 0 "SQLite -> SQLite" "$BARGE" copy sqlite:src.db sqlite:dst.db \
	--state st.db --jobs 2 --chunk-rows 500 --no-progress
check "rows exact" same_table src.db dst.db people
check "indexes made" [ "$(idx | tr '\n' ';')" = "people_ab a,b;people_b_c b,c;people_email_key email;" ]
check "unique enforced" [ "$(sqlite3 dst.db "SELECT \"unique\" FROM pragma_index_list('people') WHERE name = 'people_email_key'")" = 1 ]
expect_exit 0 "re-run" "$BARGE" copy sqlite:src.db sqlite:dst.db \
	--state st.db --jobs 2 --chunk-rows 500 --no-progress --restart --mode replace
check "re-run exact, same indexes" same_table src.db dst.db people
check "same indexes after the re-run" [ "$(idx | wc -l)" = 3 ]

finish
