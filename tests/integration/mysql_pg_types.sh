# MySQL types carried by choice: geometry as its WKB bytes, MySQL ->
# MySQL (a geometry again, the same shapes) and MySQL -> PostgreSQL (bytea
# equal to MySQL's ST_AsWKB), each verifying equal.
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
finish
