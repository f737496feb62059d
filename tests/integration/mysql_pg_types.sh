# MySQL types carried by choice: geometry as its WKB bytes, MySQL ->
# MySQL (a geometry again, the same shapes) and MySQL -> PostgreSQL (bytea
# equal to MySQL's ST_AsWKB), each verifying equal; tinyint(1) and bit(1)
# booleans by default (a tinyint(1) of 2 refused, naming the row), an
# integer and a byte with ?booleans=off in the source URL.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"
. "$HERE/mysql.bash"

my_fresh myt_src
my_sql myt_src "
CREATE TABLE places (id int PRIMARY KEY, g geometry, p point NOT NULL, name varchar(20));
INSERT INTO places VALUES
  (1, ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))'), ST_GeomFromText('POINT(1.5 -2.25)'), 'a'),
  (2, ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0.5)'), ST_GeomFromText('POINT(0 0)'), 'b'),
  (3, NULL, ST_GeomFromText('POINT(1e300 -1e-300)'), 'c'),
  (4, ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(3 4, 5 6))'), ST_GeomFromText('POINT(7 8)'), NULL);"
wkb() { my_sql "$1" "SELECT id, HEX(ST_AsWKB(g)), HEX(ST_AsWKB(p)) FROM places ORDER BY id"; }

my_fresh myt_dst
expect_exit 0 "geometry MySQL -> MySQL" "$BARGE" copy "$(my_url myt_src)" "$(my_url myt_dst)" \
	--state st1.db --no-progress
check "geometry exact MySQL -> MySQL" cmp -s <(wkb myt_src) <(wkb myt_dst)
check "the columns are geometries again" [ "$(my_sql myt_dst "SELECT GROUP_CONCAT(DATA_TYPE ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'myt_dst' AND TABLE_NAME = 'places'")" = "int,geometry,point,varchar" ]
expect_exit 0 "geometry MySQL -> MySQL verifies equal" "$BARGE" verify "$(my_url myt_src)" "$(my_url myt_dst)"
"${MY[@]}" -e "SET GLOBAL local_infile = 0"
my_fresh myt_dst2
expect_exit 0 "geometry MySQL -> MySQL by INSERT" "$BARGE" copy "$(my_url myt_src)" "$(my_url myt_dst2)" \
	--state st1b.db --no-progress
"${MY[@]}" -e "SET GLOBAL local_infile = 1"
check "the INSERT path said so" grep -q "local_infile" last.err
check "geometry exact by INSERT" cmp -s <(wkb myt_src) <(wkb myt_dst2)

pg_fresh myt_pg
expect_exit 0 "geometry MySQL -> PG" "$BARGE" copy "$(my_url myt_src)" "$(pg_url myt_pg)" \
	--state st2.db --no-progress
check "bytea is the WKB" cmp -s <(wkb myt_src) \
	<(pg_val myt_pg "SELECT id || E'\t' || coalesce(upper(encode(g, 'hex')), 'NULL') || E'\t' || upper(encode(p, 'hex')) FROM places ORDER BY id")
expect_exit 0 "geometry MySQL -> PG verifies equal" "$BARGE" verify "$(my_url myt_src)" "$(pg_url myt_pg)"

my_sql myt_src "CREATE TABLE flags (id int PRIMARY KEY, f tinyint(1), b bit(1));
INSERT INTO flags VALUES (1, 0, b'0'), (2, 1, b'1'), (3, NULL, NULL);"
pg_fresh myt_pg2
expect_exit 0 "tinyint(1), bit(1) -> boolean" "$BARGE" copy "$(my_url myt_src)" "$(pg_url myt_pg2)" \
	--tables flags --state st3.db --no-progress
check "booleans by default" [ "$(pg_val myt_pg2 "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'flags'::regclass AND attnum > 0")" = "bigint,boolean,boolean" ]
my_sql myt_src "INSERT INTO flags VALUES (4, 2, b'1')"
pg_fresh myt_pg2
expect_exit 1 "a tinyint(1) of 2 is not a boolean" "$BARGE" copy "$(my_url myt_src)" "$(pg_url myt_pg2)" \
	--tables flags --state st4.db --retries 0 --no-progress
check "refused naming the row" grep -q "flags id=4: column f.*tinyint(1) other than 0 or 1" \
	<(cat last.out last.err; sqlite3 st4.db "SELECT last_error FROM units")
pg_fresh myt_pg2
expect_exit 0 "?booleans=off" "$BARGE" copy "$(my_url myt_src)?booleans=off" "$(pg_url myt_pg2)" \
	--tables flags --state st5.db --no-progress
check "an integer and a byte" [ "$(pg_val myt_pg2 "SELECT string_agg(concat_ws(':', id, f, encode(b, 'hex')), ' ' ORDER BY id) FROM flags")" = "1:0:00 2:1:01 3 4:2:01" ]
expect_exit 0 "?booleans=off verifies equal" "$BARGE" verify "$(my_url myt_src)?booleans=off" \
	"$(pg_url myt_pg2)" --tables flags
expect_exit 2 "booleans=maybe refused" "$BARGE" inspect "$(my_url myt_src)?booleans=maybe"
check "one line naming the option" grep -q "booleans=maybe: expected on or off" last.err
finish
