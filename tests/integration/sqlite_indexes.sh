# SQLite -> SQLite: the source's secondary indexes on plain columns are
# made on the tables barge creates, after the data (a UNIQUE constraint's
# index, whose sqlite_autoindex name SQLite keeps for itself, as
# T_cols_key); expression and partial indexes are left out.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"

sqlite3 src.db < "$HERE/fixtures/indexed_people.sql"

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
