# MySQL <-> PostgreSQL: MySQL's types go to PostgreSQL and verify equal
# (bigint unsigned as numeric(20,0) on both ends of a key); a NUL byte in
# MySQL text is refused by PostgreSQL with its reason, naming the row;
# PostgreSQL -> MySQL verifies equal and a planted difference is found.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"
. "$HERE/mysql.bash"

py() { python3 -c "import json,sys; r=json.load(open('$1')); t={x['table']:x for x in r['tables']}; sys.exit(0 if ($2) else 1)"; }

my_fresh mypg_src
my_sql mypg_src "
CREATE TABLE parent (id bigint unsigned PRIMARY KEY, name varchar(20) CHARACTER SET latin1);
CREATE TABLE child (id int PRIMARY KEY, parent_id bigint unsigned, flag tinyint(1),
  d decimal(20,6), g double, dd date, dt datetime(6), ts timestamp(6) NULL, j json, bin varbinary(8),
  FOREIGN KEY (parent_id) REFERENCES parent (id));
CREATE TABLE nul (id int PRIMARY KEY, s text);
INSERT INTO parent VALUES (18446744073709551615, 'caf\\xe9'), (2, CONVERT(X'80' USING latin1));
INSERT INTO child SELECT seq, IF(seq % 2, 18446744073709551615, 2), seq % 2, seq / 7, seq * 1.1,
  '2024-01-01' + INTERVAL seq DAY, '2024-01-01 00:00:00.000001' + INTERVAL seq MINUTE,
  '2001-02-03 04:05:06.5' + INTERVAL seq SECOND, JSON_OBJECT('k', seq), UNHEX(HEX(seq))
  FROM seq_1_to_3000;
INSERT INTO nul VALUES (1, 'fine'), (2, CONCAT('a', CHAR(0), 'b'));"
pg_fresh mypg_dst
expect_exit 0 "MySQL -> PG" "$BARGE" copy "$(my_url mypg_src)" "$(pg_url mypg_dst)" --state st1.db \
	--jobs 2 --chunk-rows 500 --tables parent,child --no-progress
check "bigint unsigned: numeric(20,0) on both ends" [ "$(pg_val mypg_dst "SELECT count(DISTINCT format_type(atttypid, atttypmod)) FROM pg_attribute WHERE (attrelid = 'parent'::regclass AND attname = 'id') OR (attrelid = 'child'::regclass AND attname = 'parent_id')")" = 1 ]
check "cp1252 0x80 arrives as the euro sign" [ "$(pg_val mypg_dst "SELECT name FROM parent WHERE id = 2")" = "€" ]
check "2^64-1 kept" [ "$(pg_val mypg_dst "SELECT count(*) FROM child WHERE parent_id = 18446744073709551615")" = 1500 ]
expect_exit 0 "MySQL -> PG verifies equal" "$BARGE" verify "$(my_url mypg_src)" "$(pg_url mypg_dst)" \
	--tables parent,child --chunk-rows 500
pg_sql mypg_dst "UPDATE child SET g = g + 1 WHERE id = 77; DELETE FROM child WHERE id = 1234" >/dev/null
expect_exit 1 "MySQL -> PG: planted differences" "$BARGE" verify "$(my_url mypg_src)" "$(pg_url mypg_dst)" \
	--tables parent,child --chunk-rows 500 --report d1.json
check "changed found" py d1.json "{'kind':'changed','key':{'id':77},'columns':['g']} in t['child']['differences']"
check "missing found" py d1.json "{'kind':'missing','key':{'id':1234}} in t['child']['differences']"

"$BARGE" copy "$(my_url mypg_src)" "$(pg_url mypg_dst)" --state st2.db --tables nul --retries 0 --no-progress >nul.out 2>&1
check "NUL byte: refused, named by row and reason" grep -q "nul id=2: column s.*NUL" <(cat nul.out; sqlite3 st2.db "SELECT last_error FROM units")

# PostgreSQL -> MySQL
pg_fresh mypg_pg
pg_sql mypg_pg "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12,2),
  at timestamptz, u uuid, doc jsonb, raw bytea, f boolean);
INSERT INTO items SELECT i, 'item ' || i, i * 0.25, timestamptz '2024-01-02 03:04:05.000006+00' + i * interval '1 minute',
  md5(i::text)::uuid, jsonb_build_object('a', i), int8send(i), i % 2 = 0 FROM generate_series(1, 3000) i;
CREATE TABLE pairs (a text NOT NULL, b text NOT NULL, v integer, PRIMARY KEY (a, b));
INSERT INTO pairs VALUES ('a|b', 'c', 1), ('x', 'y', 2), ('B', 'b', 3), ('b', 'B', 4);" >/dev/null
my_fresh mypg_my
expect_exit 0 "PG -> MySQL" "$BARGE" copy "$(pg_url mypg_pg)" "$(my_url mypg_my)" --state st3.db \
	--jobs 2 --chunk-rows 500 --no-progress
expect_exit 0 "PG -> MySQL verifies equal" "$BARGE" verify "$(pg_url mypg_pg)" "$(my_url mypg_my)" --chunk-rows 500
my_sql mypg_my "UPDATE items SET name = 'x' WHERE id = 5; DELETE FROM pairs WHERE a = 'B'"
expect_exit 1 "PG -> MySQL: planted differences" "$BARGE" verify "$(pg_url mypg_pg)" "$(my_url mypg_my)" \
	--chunk-rows 500 --report d2.json
check "changed found" py d2.json "{'kind':'changed','key':{'id':5},'columns':['name']} in t['items']['differences']"
check "missing composite text key found" py d2.json "{'kind':'missing','key':{'a':'B','b':'b'}} in t['pairs']['differences']"
finish
