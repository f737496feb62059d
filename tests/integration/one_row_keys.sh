# One row by its key, on SQLite: `run --table T --key K` and `barge fix`
# touch exactly the row of K, a point chunk [K, K], for a text key (SQLite
# text holds NUL: 'a' has neighbours 'a' || NUL ...), a composite (text,
# int) key whose text has a comma (--key as a JSON array) and keys ending
# in the lowest characters. Triggers in the target record every row barge
# deletes or inserts, so a neighbour taken in by a range shows.
. "$(dirname "$0")/lib.bash"

# x'..' as text: SQLite keeps the NUL bytes
SCHEMA="
CREATE TABLE tk (k TEXT NOT NULL PRIMARY KEY, v TEXT);
CREATE TABLE tc (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b));"
rows() { # rows WHAT: tk and tc with v = WHAT || ' ' || the key in hex
	echo "
INSERT INTO tk SELECT CAST(x AS TEXT), '$1 ' || hex(x) FROM (
  SELECT x'61' AS x UNION ALL SELECT x'6100' UNION ALL SELECT x'610000'
  UNION ALL SELECT x'610001' UNION ALL SELECT x'6101' UNION ALL SELECT x'62');
INSERT INTO tc VALUES ('a,b', 2, '$1 a,b 2'), ('a,b', 3, '$1 a,b 3'),
  ('a,b', 4, '$1 a,b 4'), ('a', 3, '$1 a 3'), ('a,b' || char(0), 3, '$1 a,b0 3'),
  ('a,', 3, '$1 a, 3');"
}
AUDIT="
CREATE TABLE audit (t TEXT, op TEXT, k TEXT);
CREATE TRIGGER tk_i AFTER INSERT ON tk BEGIN INSERT INTO audit VALUES ('tk', 'i', hex(NEW.k)); END;
CREATE TRIGGER tk_d AFTER DELETE ON tk BEGIN INSERT INTO audit VALUES ('tk', 'd', hex(OLD.k)); END;
CREATE TRIGGER tk_u AFTER UPDATE ON tk BEGIN INSERT INTO audit VALUES ('tk', 'u', hex(OLD.k)); END;
CREATE TRIGGER tc_i AFTER INSERT ON tc BEGIN INSERT INTO audit VALUES ('tc', 'i', hex(NEW.a) || '/' || NEW.b); END;
CREATE TRIGGER tc_d AFTER DELETE ON tc BEGIN INSERT INTO audit VALUES ('tc', 'd', hex(OLD.a) || '/' || OLD.b); END;
CREATE TRIGGER tc_u AFTER UPDATE ON tc BEGIN INSERT INTO audit VALUES ('tc', 'u', hex(OLD.a) || '/' || OLD.b); END;"
# what the triggers saw since the last call, sorted, one line
seen() { sqlite3 "$1" "SELECT group_concat(x, ' ') FROM (SELECT t || ':' || op || ':' || k AS x FROM audit ORDER BY x); DELETE FROM audit;"; }
tkv() { sqlite3 "$1" "SELECT group_concat(hex(k) || '=' || v, ' ') FROM (SELECT * FROM tk ORDER BY k)"; }
tcv() { sqlite3 "$1" "SELECT group_concat(v, ' ') FROM (SELECT * FROM tc ORDER BY a, b)"; }

sqlite3 src.db "$SCHEMA $(rows src)"
sqlite3 dst.db "$SCHEMA $(rows old) $AUDIT"
check "the source holds 'a' and 'a' || NUL apart" \
	[ "$(sqlite3 src.db "SELECT count(*), count(DISTINCT k), sum(length(CAST(k AS BLOB))) FROM tk WHERE k >= 'a' AND k < 'b'")" = "5|5|11" ]
cat > plan.yaml <<'PLAN'
source: sqlite:src.db
target: sqlite:dst.db
state: state.db
defaults: {mode: replace}
tables: [tk, tc]
PLAN
one() { # one WHAT KEY: a one-row run of tk or tc
	expect_exit 0 "--table $1 --key $2" "$BARGE" run plan.yaml --table "$1" --key "$2" --no-progress
}

# ---- run --table T --key K -------------------------------------------------
one tk a
check "tk 'a': only 'a' deleted and copied" [ "$(seen dst.db)" = "tk:d:61 tk:i:61" ]
check "tk 'a': the neighbours kept their values" \
	[ "$(tkv dst.db)" = "61=src 61 6100=old 6100 610000=old 610000 610001=old 610001 6101=old 6101 62=old 62" ]
check "the one-row unit is stored as lo == hi" \
	[ "$(sqlite3 state.db "SELECT lo = hi, lo FROM units WHERE table_name = 'tk'")" = '1|["a"]' ]

one tk '[{"x":"6100"}]'
check "tk 'a' || NUL (ends in the lowest character): only that row" [ "$(seen dst.db)" = "tk:d:6100 tk:i:6100" ]
check "tk 'a' || NUL: the neighbours kept their values" \
	[ "$(tkv dst.db)" = "61=src 61 6100=src 6100 610000=old 610000 610001=old 610001 6101=old 6101 62=old 62" ]
one tk $'a\x01'
check "tk 'a' || 0x01: only that row" [ "$(seen dst.db)" = "tk:d:6101 tk:i:6101" ]

one tc '["a,b",3]'
check "tc ('a,b', 3) as a JSON array: only that row" [ "$(seen dst.db)" = "tc:d:612C62/3 tc:i:612C62/3" ]
check "tc ('a,b', 3): the neighbours kept their values" \
	[ "$(tcv dst.db)" = "old a 3 old a, 3 old a,b 2 src a,b 3 old a,b 4 old a,b0 3" ]
one tc 'a,3'
check "tc a,3 (comma-separated): only ('a', 3)" [ "$(seen dst.db)" = "tc:d:61/3 tc:i:61/3" ]
one tc '[{"x":"612c6200"},3]'
check "tc ('a,b' || NUL, 3): only that row" [ "$(seen dst.db)" = "tc:d:612C6200/3 tc:i:612C6200/3" ]
check "tc: the rows not named kept their values" \
	[ "$(tcv dst.db)" = "src a 3 old a, 3 old a,b 2 src a,b 3 old a,b 4 src a,b0 3" ]
expect_exit 2 "--key: a malformed JSON array" "$BARGE" run plan.yaml --table tc --key '["a,b"' --no-progress
check "the malformed --key is named" grep -q 'not a JSON array' "$WORK/last.err"
expect_exit 2 "--key: a JSON array of the wrong width" "$BARGE" run plan.yaml --table tc --key '["a,b"]' --no-progress
expect_exit 2 "--key: a null in the JSON array" "$BARGE" run plan.yaml --table tc --key '["a,b",null]' --no-progress
check "nothing written by the refused keys" [ -z "$(seen dst.db)" ]

# ---- barge fix ---------------------------------------------------------------
rm -f dst.db state.db
sqlite3 dst.db "$SCHEMA $(rows src) $AUDIT"
sqlite3 dst.db "DELETE FROM audit;"
expect_exit 0 "a copy verifies equal" "$BARGE" verify plan.yaml
# a difference on 'a' and on its neighbour 'a' || NUL || NUL (which ends in
# the lowest character); ('a,b', 3) changed and ('a,b', 4) missing
sqlite3 dst.db "UPDATE tk SET v = 'changed' WHERE k = CAST(x'61' AS TEXT) OR k = CAST(x'610000' AS TEXT);
	UPDATE tc SET v = 'changed' WHERE a = 'a,b' AND b = 3;
	DELETE FROM tc WHERE a = 'a,b' AND b = 4;
	DELETE FROM audit;"
expect_exit 1 "the planted differences are found" "$BARGE" verify plan.yaml --report diff.json
check "four differences" python3 -c "import json; r=json.load(open('diff.json')); t={x['table']:x for x in r['tables']}; assert t['tk']['changed'] == 2 and t['tc']['changed'] == 1 and t['tc']['missing'] == 1"
expect_exit 0 "barge fix" "$BARGE" fix plan.yaml
check "fix touched exactly the differing rows" \
	[ "$(seen dst.db)" = "tc:d:612C62/3 tc:i:612C62/3 tc:i:612C62/4 tk:d:61 tk:d:610000 tk:i:61 tk:i:610000" ]
expect_exit 0 "verify after fix: equal" "$BARGE" verify plan.yaml
check "tk exact" same_table src.db dst.db tk
check "tc exact" same_table src.db dst.db tc
finish
