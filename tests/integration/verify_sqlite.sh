# barge verify / fix, SQLite -> SQLite: an exact copy is equal; each kind
# of planted difference is found with its key, kind and columns; values
# that are one value in barge's model (-0.0 and 0.0, one instant at two
# offsets) are equal; fix then verify is equal; --against-state finds a
# changed row with the source gone.
. "$(dirname "$0")/lib.bash"

sqlite3 src.db <<'SQL'
CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, note TEXT,
                   z, at TIMESTAMPTZ, doc JSON);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO items SELECT i, 'item ' || i, i * 1.1, CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END,
       0.0, '2024-01-02T03:04:05.000006+00:00', '{"a":1,"b":[true,null]}' FROM n;
UPDATE items SET note = '' WHERE id = 100;
CREATE TABLE pairs(a TEXT NOT NULL, b TEXT NOT NULL, v INTEGER, PRIMARY KEY (a, b));
INSERT INTO pairs VALUES ('a|b', 'c', 1), ('x', 'y', 2);
CREATE TABLE bag(w TEXT, n INTEGER);
INSERT INTO bag VALUES ('one', 1), ('two', 2), ('two', 2), ('three', 3);
SQL
expect_exit 0 "copy" "$BARGE" copy sqlite:src.db sqlite:dst.db --state st.db --chunk-rows 500 --no-progress
expect_exit 0 "exact copy verifies equal" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500 --report equal.json
check "report says equal" grep -q '"equal":true' equal.json
expect_exit 0 "exact copy verifies equal with 2 jobs" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500 --jobs 2

# Progress: on a terminal (a pty) a line per table, ending at all rows of
# both sides read; without a terminal nothing on stderr; --progress forces
# the lines, without escapes.
vline() { grep -aEq "(^|\[2K)$1 +$2 / $2 +rows +[0-9]+ rows/s +ETA 0:00:00" "$3"; }
script -qec "'$BARGE' verify sqlite:src.db sqlite:dst.db --chunk-rows 500" /dev/null > vtty.out 2>&1 < /dev/null
check "verify on a terminal: items ends at 6000 / 6000 rows" vline items 6000 vtty.out
check "verify on a terminal: pairs and bag too" bash -c "grep -aEq 'pairs +4 / 4 ' vtty.out && grep -aEq 'bag +8 / 8 ' vtty.out"
check "verify on a terminal: the result line too" grep -aq '^equal in' vtty.out
expect_exit 0 "verify, no terminal" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500
check "verify, no terminal: stderr empty" [ ! -s "$WORK/last.err" ]
expect_exit 0 "verify --progress" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500 --progress
check "verify --progress: the items line on stderr" vline items 6000 "$WORK/last.err"
check "verify --progress: no escapes when not a terminal" bash -c "! grep -q $'\e' '$WORK/last.err'"

# Equal in barge's model, though stored differently.
sqlite3 dst.db "UPDATE items SET z = -0.0 WHERE id = 5;
                UPDATE items SET at = '2024-01-02T05:04:05.000006+02:00' WHERE id = 6;
                UPDATE items SET doc = '{ \"b\" : [true, null], \"a\" : 1.0 }' WHERE id = 7;"
check "-0.0 kept as -0.0 in the untyped column" python3 -c "import sqlite3,math,sys; v=sqlite3.connect('dst.db').execute('SELECT z FROM items WHERE id = 5').fetchone()[0]; sys.exit(0 if isinstance(v, float) and math.copysign(1, v) < 0 else 1)"
expect_exit 0 "-0.0 vs 0, offsets, JSON spelling: equal" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500

# Planted differences, one of each kind.
sqlite3 dst.db <<'SQL'
UPDATE items SET price = (SELECT price FROM items WHERE id = 42) + 2.220446049250313e-16 * (SELECT price FROM items WHERE id = 42) WHERE id = 42;
UPDATE items SET note = NULL WHERE id = 100;
UPDATE items SET name = name || ' ' WHERE id = 200;
DELETE FROM items WHERE id = 1500;
INSERT INTO items VALUES (5000, 'extra', 1, 'x', 0.0, NULL, NULL);
DELETE FROM pairs WHERE a = 'a|b';
INSERT INTO pairs VALUES ('a', 'b|c', 1);
INSERT INTO bag VALUES ('three', 3);
SQL
check "the float differs in the last bit only" [ "$(sqlite3 dst.db "ATTACH 'src.db' AS s; SELECT i.price != j.price AND abs(i.price - j.price) < 1e-12 FROM items i JOIN s.items j USING (id) WHERE id = 42")" = 1 ]
expect_exit 1 "differences: exit 1" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500 --leaf-rows 50 --report diff.json --state vst.db
cp "$WORK/last.out" verify.out
py() { python3 -c "import json,sys; r=json.load(open('diff.json')); t={x['table']:x for x in r['tables']}; sys.exit(0 if ($1) else 1)"; }
check "float in the last digit: changed price" py "{'kind':'changed','key':{'id':42},'columns':['price']} in t['items']['differences']"
check "NULL vs empty string: changed note" py "{'kind':'changed','key':{'id':100},'columns':['note']} in t['items']['differences']"
check "trailing space: changed name" py "{'kind':'changed','key':{'id':200},'columns':['name']} in t['items']['differences']"
check "deleted row: missing" py "{'kind':'missing','key':{'id':1500}} in t['items']['differences']"
check "extra row: extra" py "{'kind':'extra','key':{'id':5000}} in t['items']['differences']"
check "items: exactly five differences" py "len(t['items']['differences']) == 5 and t['items']['changed'] == 3"
check "items rows each side" py "t['items']['source_rows'] == 3000 and t['items']['target_rows'] == 3000"
check "('a|b','c') missing" py "{'kind':'missing','key':{'a':'a|b','b':'c'}} in t['pairs']['differences']"
check "('a','b|c') extra" py "{'kind':'extra','key':{'a':'a','b':'b|c'}} in t['pairs']['differences']"
check "keyless duplicate: one extra row" py "t['bag']['extra'] == 1 and t['bag']['missing'] == 0 and t['bag']['differences'][0]['row'] == {'w':'three','n':3}"
check "report shape" py "r['tables'][0].keys() >= {'table','equal','source_rows','target_rows','differences'}"
check "summary line per table" grep -q '^items .*DIFFERENT' verify.out
check "results stored in the state store" [ "$(sqlite3 vst.db "SELECT count(*) FROM verify_results WHERE equal = 0")" = 3 ]
expect_exit 1 "--max-diffs caps the list, counts all" "$BARGE" verify sqlite:src.db sqlite:dst.db --tables items --max-diffs 2 --report cap.json
check "capped list, full counts" python3 -c "import json,sys; t=json.load(open('cap.json'))['tables'][0]; sys.exit(0 if len(t['differences'])==2 and t['missing']+t['extra']+t['changed']==5 else 1)"

# fix, then verify: equal
expect_exit 0 "fix" "$BARGE" fix sqlite:src.db sqlite:dst.db --chunk-rows 500 --tables items,pairs
expect_exit 0 "verify after fix" "$BARGE" verify sqlite:src.db sqlite:dst.db --chunk-rows 500 --tables items,pairs
# rows 5-7 differ in spelling only (equal to barge), so they stay as they
# are; timestamps are compared by verify above (copies write them canonically)
check "fixed rows are exact" [ "$(sqlite3 dst.db "ATTACH 'src.db' AS s;
	SELECT (SELECT count(*) FROM (SELECT id, name, price, note, z, doc FROM items WHERE id NOT IN (5, 6, 7) EXCEPT SELECT id, name, price, note, z, doc FROM s.items))
	     + (SELECT count(*) FROM (SELECT id, name, price, note, z, doc FROM s.items WHERE id NOT IN (5, 6, 7) EXCEPT SELECT id, name, price, note, z, doc FROM items))
	     + (SELECT count(*) FROM items) - (SELECT count(*) FROM s.items)")" = 0 ]
check "rows equal only in barge's model were left alone" [ "$(sqlite3 dst.db "SELECT at FROM items WHERE id = 6")" = "2024-01-02T05:04:05.000006+02:00" ]

# against the state: a changed row after the source is gone
sqlite3 dst.db "DELETE FROM bag WHERE rowid = (SELECT max(rowid) FROM bag)"
expect_exit 0 "against-state: equal" "$BARGE" verify --against-state --state st.db sqlite:dst.db
rm -f src.db
sqlite3 dst.db "UPDATE items SET price = 0 WHERE id = 2222"
expect_exit 1 "against-state finds a changed row" "$BARGE" verify --against-state --state st.db --report as.json
check "the differing chunk is the one holding 2222" python3 -c "import json,sys; t=[x for x in json.load(open('as.json'))['tables'] if x['table']=='items'][0]; d=t['differences']; sys.exit(0 if len(d)==1 and (d[0]['lo'] or [0])[0] <= 2222 < (d[0]['hi'] or [10**9])[0] else 1)"
expect_exit 2 "a missing source is trouble: exit 2" "$BARGE" verify sqlite:src.db sqlite:dst.db
finish
