# barge verify / fix with PostgreSQL: PG -> PG and SQLite <-> PG. An
# exact copy is equal; each planted difference of issue 4 is found with
# its key, kind and columns; values that are one value in barge's model
# (-0 and 0, one instant at two offsets, two spellings of one JSON
# document) are equal; fix then verify is equal. Runs with the in-database
# digest (the default) and with it switched off (BARGE_NO_FASTPATH=1).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

# py FILE EXPR: a Python expression over the report (r, and t by table).
py() { python3 -c "import json,sys; r=json.load(open('$1')); t={x['table']:x for x in r['tables']}; sys.exit(0 if ($2) else 1)"; }

SCHEMA="
CREATE TABLE items(id bigint PRIMARY KEY, name text, price double precision,
  note text, z double precision, at timestamptz, doc jsonb, amount numeric(12,2),
  d date, u uuid, flag boolean, raw bytea, c char(4));
CREATE TABLE pairs(a text NOT NULL, b text NOT NULL, v integer, PRIMARY KEY (a, b));
CREATE TABLE bag(w text, n integer);"
DATA="
INSERT INTO items SELECT i, 'item ' || i, i * 1.1,
  CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END, 0.0,
  timestamptz '2024-01-02 03:04:05.000006+00' + i * interval '1 minute',
  jsonb_build_object('a', i, 'b', jsonb_build_array(true, null)),
  i * 0.25, date '2024-01-01' + i, md5(i::text)::uuid, i % 2 = 0,
  int8send(i), 'ab'
FROM generate_series(1, 3000) i;
UPDATE items SET note = '' WHERE id = 100;
INSERT INTO pairs VALUES ('a|b', 'c', 1), ('x', 'y', 2);
INSERT INTO bag VALUES ('one', 1), ('two', 2), ('two', 2), ('three', 3);"

# The planted differences of issue 4 (in the target $1), then the checks.
plant() {
	pg_sql "$1" "
UPDATE items SET price = price + price * 2.220446049250313e-16 WHERE id = 42;
UPDATE items SET note = NULL WHERE id = 100;
UPDATE items SET name = name || ' ' WHERE id = 200;
DELETE FROM items WHERE id = 1500;
INSERT INTO items (id, name) VALUES (5000, 'extra');
DELETE FROM pairs WHERE a = 'a|b';
INSERT INTO pairs VALUES ('a', 'b|c', 1);
INSERT INTO bag VALUES ('three', 3);" >/dev/null
}
check_found() { # check_found LABEL REPORT
	local l=$1 f=$2
	check "$l: float in the last digit: changed price" py $f "{'kind':'changed','key':{'id':42},'columns':['price']} in t['items']['differences']"
	check "$l: NULL vs empty string: changed note" py $f "{'kind':'changed','key':{'id':100},'columns':['note']} in t['items']['differences']"
	check "$l: trailing space: changed name" py $f "{'kind':'changed','key':{'id':200},'columns':['name']} in t['items']['differences']"
	check "$l: deleted row: missing" py $f "{'kind':'missing','key':{'id':1500}} in t['items']['differences']"
	check "$l: extra row: extra" py $f "{'kind':'extra','key':{'id':5000}} in t['items']['differences']"
	check "$l: items: exactly five differences" py $f "len(t['items']['differences']) == 5 and t['items']['changed'] == 3"
	check "$l: items rows each side" py $f "t['items']['source_rows'] == 3000 and t['items']['target_rows'] == 3000"
	check "$l: ('a|b','c') missing" py $f "{'kind':'missing','key':{'a':'a|b','b':'c'}} in t['pairs']['differences']"
	check "$l: ('a','b|c') extra" py $f "{'kind':'extra','key':{'a':'a','b':'b|c'}} in t['pairs']['differences']"
	check "$l: pairs: exactly two differences" py $f "len(t['pairs']['differences']) == 2"
	check "$l: keyless duplicate: one extra row" py $f "t['bag']['extra'] == 1 and t['bag']['missing'] == 0 and t['bag']['differences'][0]['row'] == {'w':'three','n':3}"
}

# ---- PG -> PG ------------------------------------------------------------
pg_fresh pgv_src
pg_fresh pgv_dst
pg_sql pgv_src "$SCHEMA $DATA" >/dev/null
S=$(pg_url pgv_src)
D=$(pg_url pgv_dst)
expect_exit 0 "PG->PG copy" "$BARGE" copy "$S" "$D" --state st.db --chunk-rows 500 --no-progress
for fp in 1 0; do
	l="PG->PG fast=$fp"
	export BARGE_NO_FASTPATH=$((1 - fp))
	expect_exit 0 "$l: exact copy verifies equal" "$BARGE" verify "$S" "$D" --chunk-rows 500 --report eq.json
	check "$l: report says equal" py eq.json "r['equal'] and t['items']['source_rows'] == 3000"
	expect_exit 0 "$l: equal with 2 jobs" "$BARGE" verify "$S" "$D" --chunk-rows 500 --jobs 2
done
unset BARGE_NO_FASTPATH

# Equal in barge's model, though written differently.
pg_sql pgv_dst "UPDATE items SET z = '-0' WHERE id = 5;
	UPDATE items SET at = '2024-01-02 05:10:05.000006+02' WHERE id = 6;
	UPDATE items SET doc = '{ \"b\" : [true, null], \"a\" : 7.0 }' WHERE id = 7;
	UPDATE items SET amount = 2.5 WHERE id = 10;" >/dev/null
check "-0 stored in the target" [ "$(pg_val pgv_dst "SELECT z::text FROM items WHERE id = 5")" = "-0" ]
check "the JSON differs in PostgreSQL's text" [ "$(pg_val pgv_dst "SELECT doc::text = (SELECT doc::text FROM items WHERE id = 8) FROM items WHERE id = 7")" = f ]
for fp in 1 0; do
	export BARGE_NO_FASTPATH=$((1 - fp))
	expect_exit 0 "PG->PG fast=$fp: -0, offsets, JSON 7.0 vs 7: equal" "$BARGE" verify "$S" "$D" --chunk-rows 500
done
unset BARGE_NO_FASTPATH

plant pgv_dst
check "the float differs in the last bit only" [ "$(pg_val pgv_dst "SELECT count(*) FROM items WHERE id = 42 AND price <> 42 * 1.1 AND abs(price - 42 * 1.1) < 1e-12")" = 1 ]
for fp in 1 0; do
	l="PG->PG fast=$fp"
	export BARGE_NO_FASTPATH=$((1 - fp))
	expect_exit 1 "$l: differences: exit 1" "$BARGE" verify "$S" "$D" --chunk-rows 500 --leaf-rows 50 --report diff$fp.json --jobs 2
	check_found "$l" diff$fp.json
done
unset BARGE_NO_FASTPATH
expect_exit 0 "PG->PG: fix" "$BARGE" fix "$S" "$D" --chunk-rows 500 --tables items,pairs
expect_exit 0 "PG->PG: verify after fix" "$BARGE" verify "$S" "$D" --chunk-rows 500 --tables items,pairs
check "PG->PG: fixed rows are exact" [ "$(pg_val pgv_dst "SELECT count(*) FROM items WHERE id IN (42, 100, 200, 1500, 5000)")" = 4 ]
pg_sql pgv_dst "DELETE FROM bag WHERE ctid = (SELECT max(ctid) FROM bag WHERE w = 'three')" >/dev/null
expect_exit 0 "PG->PG: everything equal" "$BARGE" verify "$S" "$D" --chunk-rows 500

# ---- SQLite -> PG -> SQLite ----------------------------------------------
sqlite3 src.db <<'SQL'
CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, note TEXT,
  z REAL, at TIMESTAMPTZ, doc JSON, amount NUMERIC(12,2), d DATE, u UUID,
  flag BOOLEAN, raw BLOB, c CHAR(4));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO items SELECT i, 'item ' || i, i * 1.1,
  CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END, 0.0,
  '2024-01-02T03:04:05.000006+00:00', '{"a":' || i || ',"b":[true,null]}',
  printf('%d.%02d', i / 4, (i % 4) * 25), date('2024-01-01', '+' || i || ' days'),
  '0e7ec7d8-31a8-4b45-9e5f-3b4aa5e1c0' || printf('%02d', i % 100), i % 2 = 0,
  randomblob(8), 'ab  '
FROM n;
UPDATE items SET note = '' WHERE id = 100;
CREATE TABLE pairs(a TEXT NOT NULL, b TEXT NOT NULL, v INTEGER, PRIMARY KEY (a, b));
INSERT INTO pairs VALUES ('a|b', 'c', 1), ('x', 'y', 2);
CREATE TABLE bag(w TEXT, n INTEGER);
INSERT INTO bag VALUES ('one', 1), ('two', 2), ('two', 2), ('three', 3);
SQL
pg_fresh pgv_x
X=$(pg_url pgv_x)
expect_exit 0 "SQLite->PG copy" "$BARGE" copy sqlite:src.db "$X" --state stx.db --chunk-rows 500 --no-progress
for fp in 1 0; do
	l="SQLite->PG fast=$fp"
	export BARGE_NO_FASTPATH=$((1 - fp))
	expect_exit 0 "$l: exact copy verifies equal" "$BARGE" verify sqlite:src.db "$X" --chunk-rows 500 --report xeq.json
	check "$l: report says equal" py xeq.json "r['equal'] and t['items']['target_rows'] == 3000"
done
unset BARGE_NO_FASTPATH
expect_exit 0 "PG->SQLite copy" "$BARGE" copy "$X" sqlite:back.db --state stb.db --chunk-rows 500 --no-progress
expect_exit 0 "PG->SQLite: verifies equal" "$BARGE" verify "$X" sqlite:back.db --chunk-rows 500 --jobs 2

pg_sql pgv_x "UPDATE items SET z = '-0' WHERE id = 5;
	UPDATE items SET at = '2024-01-02 05:04:05.000006+02' WHERE id = 6;
	UPDATE items SET doc = '{ \"b\" : [true, null], \"a\" : 7.0 }' WHERE id = 7;" >/dev/null
expect_exit 0 "SQLite->PG: -0, offsets, JSON spelling: equal" "$BARGE" verify sqlite:src.db "$X" --chunk-rows 500
plant pgv_x
for fp in 1 0; do
	l="SQLite->PG fast=$fp"
	export BARGE_NO_FASTPATH=$((1 - fp))
	expect_exit 1 "$l: differences: exit 1" "$BARGE" verify sqlite:src.db "$X" --chunk-rows 500 --leaf-rows 50 --report xdiff$fp.json
	check_found "$l" xdiff$fp.json
done
unset BARGE_NO_FASTPATH
expect_exit 0 "SQLite->PG: fix" "$BARGE" fix sqlite:src.db "$X" --chunk-rows 500 --tables items,pairs
expect_exit 0 "SQLite->PG: verify after fix" "$BARGE" verify sqlite:src.db "$X" --chunk-rows 500 --tables items,pairs

# The other way: differences planted in SQLite, source PG.
sqlite3 back.db "UPDATE items SET price = price + price * 2.220446049250313e-16 WHERE id = 42;
	UPDATE items SET note = NULL WHERE id = 100; DELETE FROM items WHERE id = 1500;"
expect_exit 1 "PG->SQLite: differences: exit 1" "$BARGE" verify "$X" sqlite:back.db --chunk-rows 500 --leaf-rows 50 --tables items --report bdiff.json
check "PG->SQLite: three differences found" py bdiff.json "sorted((d['kind'], d['key']['id']) for d in t['items']['differences']) == [('changed', 42), ('changed', 100), ('missing', 1500)]"
expect_exit 0 "PG->SQLite: fix" "$BARGE" fix "$X" sqlite:back.db --chunk-rows 500 --tables items

# Plan invariants PG -> PG through a rename: numeric sums at two scales
# (numeric(12,2) and numeric) are one number; a where; a differing max.
pg_fresh pgvi_src
pg_fresh pgvi_dst
pg_sql pgvi_src "CREATE TABLE o(id bigint PRIMARY KEY, cust bigint NOT NULL, amount numeric(12,2), at timestamptz);
	INSERT INTO o SELECT i, i % 13, i * 0.5, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour' FROM generate_series(1, 2000) i;" >/dev/null
pg_sql pgvi_dst "CREATE TABLE o2(id bigint PRIMARY KEY, customer bigint NOT NULL, amount numeric, at timestamptz);
	INSERT INTO o2 SELECT i, i % 13, i * 0.5, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour' FROM generate_series(1, 2000) i;" >/dev/null
cat > inv.yaml <<YAML
source: $(pg_url pgvi_src)
target: $(pg_url pgvi_dst)
tables:
  - name: o
    target: o2
    columns:
      cust: {to: customer}
    invariants: ["sum(amount)", "count(distinct cust)", "max(at) where cust = 3", "avg(amount)"]
YAML
check "numeric scales differ in the texts" [ "$(pg_val pgvi_src "SELECT sum(amount) FROM o")" != "$(pg_val pgvi_dst "SELECT sum(amount) FROM o2")" ]
expect_exit 0 "PG invariants: all hold" "$BARGE" verify inv.yaml --report inv.json
check "PG invariants: four, equal" py inv.json "len(t['o']['invariants']) == 4 and all(x['equal'] for x in t['o']['invariants']) and t['o']['invariants'][1]['source'] == '13'"
pg_sql pgvi_dst "UPDATE o2 SET at = at + interval '1 second' WHERE id = 1992" >/dev/null
expect_exit 1 "PG invariants: a later max(at) where cust = 3: exit 1" "$BARGE" verify inv.yaml --report inv2.json
check "PG invariants: only max(at) differs" py inv2.json "[x['invariant'] for x in t['o']['invariants'] if not x['equal']] == ['max(at) where cust = 3']"
finish
