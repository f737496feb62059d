# One row by its key, on PostgreSQL: `run --table T --key K` and `barge
# fix` touch exactly the row of K, a point chunk [K, K] (no "successor"
# key, which for text would need a NUL PostgreSQL cannot hold), for a text
# key ('a' next to 'a' || chr(1) ...), a composite (text, int) key whose
# text has a comma (--key as a JSON array) and a key ending in the lowest
# character, chr(1). A text key with a NUL, from SQLite, is refused with a
# clear message, not broken SQL. Triggers in the target record every row
# barge deletes or inserts, so a neighbour taken in by a range shows.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

SCHEMA="
CREATE TABLE tk (k text PRIMARY KEY, v text);
CREATE TABLE tc (a text, b integer, v text, PRIMARY KEY (a, b));"
rows() { # rows WHAT: tk and tc with v = WHAT || ' ' || the key
	echo "
INSERT INTO tk SELECT x, '$1 ' || encode(convert_to(x, 'UTF8'), 'hex') FROM unnest(ARRAY[
  'a', 'a' || chr(1), 'a' || chr(1) || chr(1), 'a' || chr(1) || chr(2),
  'a' || chr(2), 'b']) x;
INSERT INTO tc VALUES ('a,b', 2, '$1 a,b 2'), ('a,b', 3, '$1 a,b 3'),
  ('a,b', 4, '$1 a,b 4'), ('a', 3, '$1 a 3'), ('a,b' || chr(1), 3, '$1 a,b1 3'),
  ('a,', 3, '$1 a, 3');"
}
AUDIT="
CREATE TABLE audit (t text, op text, k text);
CREATE FUNCTION tk_audit() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE r tk;
BEGIN
  IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
  INSERT INTO audit VALUES ('tk', lower(left(TG_OP, 1)), encode(convert_to(r.k, 'UTF8'), 'hex'));
  RETURN NULL;
END \$\$;
CREATE FUNCTION tc_audit() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE r tc;
BEGIN
  IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
  INSERT INTO audit VALUES ('tc', lower(left(TG_OP, 1)), encode(convert_to(r.a, 'UTF8'), 'hex') || '/' || r.b);
  RETURN NULL;
END \$\$;
CREATE TRIGGER tk_audit AFTER INSERT OR UPDATE OR DELETE ON tk FOR EACH ROW EXECUTE FUNCTION tk_audit();
CREATE TRIGGER tc_audit AFTER INSERT OR UPDATE OR DELETE ON tc FOR EACH ROW EXECUTE FUNCTION tc_audit();"
# what the triggers saw since the last call, sorted, one line
seen() {
	pg_val "$1" "SELECT coalesce(string_agg(x, ' ' ORDER BY x COLLATE \"C\"), '') FROM
		(SELECT t || ':' || op || ':' || k AS x FROM audit) s"
	pg_sql "$1" "DELETE FROM audit" >/dev/null
}
tkv() { pg_val "$1" "SELECT string_agg(v, ' ' ORDER BY k COLLATE \"C\") FROM tk"; }
tcv() { pg_val "$1" "SELECT string_agg(v, ' ' ORDER BY a COLLATE \"C\", b) FROM tc"; }

pg_fresh pgk_src
pg_fresh pgk_dst
pg_sql pgk_src "$SCHEMA $(rows src)" >/dev/null
pg_sql pgk_dst "$SCHEMA $(rows old) $AUDIT" >/dev/null
cat > plan.yaml <<PLAN
source: $(pg_url pgk_src)
target: $(pg_url pgk_dst)
state: state.db
defaults: {mode: replace}
tables: [tk, tc]
PLAN
one() { # one TABLE KEY: a one-row run
	expect_exit 0 "--table $1 --key $2" "$BARGE" run plan.yaml --table "$1" --key "$2" --no-progress
}

# ---- run --table T --key K -------------------------------------------------
one tk a
check "tk 'a': only 'a' deleted and copied" [ "$(seen pgk_dst)" = "tk:d:61 tk:i:61" ]
check "tk 'a': the neighbours kept their values" \
	[ "$(tkv pgk_dst)" = "src 61 old 6101 old 610101 old 610102 old 6102 old 62" ]
check "the one-row unit is stored as lo == hi" \
	[ "$(sqlite3 state.db "SELECT lo = hi, lo FROM units WHERE table_name = 'tk'")" = '1|["a"]' ]
one tk $'a\x01'
check "tk 'a' || chr(1) (ends in the lowest character): only that row" \
	[ "$(seen pgk_dst)" = "tk:d:6101 tk:i:6101" ]
check "tk 'a' || chr(1): the neighbours kept their values" \
	[ "$(tkv pgk_dst)" = "src 61 src 6101 old 610101 old 610102 old 6102 old 62" ]

one tc '["a,b",3]'
check "tc ('a,b', 3) as a JSON array: only that row" [ "$(seen pgk_dst)" = "tc:d:612c62/3 tc:i:612c62/3" ]
check "tc ('a,b', 3): the neighbours kept their values" \
	[ "$(tcv pgk_dst)" = "old a 3 old a, 3 old a,b 2 src a,b 3 old a,b 4 old a,b1 3" ]
one tc '[{"x":"612c6201"},3]'
check "tc ('a,b' || chr(1), 3): only that row" [ "$(seen pgk_dst)" = "tc:d:612c6201/3 tc:i:612c6201/3" ]
check "tc: the rows not named kept their values" \
	[ "$(tcv pgk_dst)" = "old a 3 old a, 3 old a,b 2 src a,b 3 old a,b 4 src a,b1 3" ]

# ---- barge fix ---------------------------------------------------------------
pg_fresh pgk_dst
pg_sql pgk_dst "$SCHEMA $(rows src) $AUDIT" >/dev/null
rm -f state.db
expect_exit 0 "a copy verifies equal" "$BARGE" verify plan.yaml
# a difference on 'a' and on its neighbour 'a' || chr(1) || chr(1) (which
# ends in the lowest character); ('a,b', 3) changed and ('a,b', 4) missing
pg_sql pgk_dst "UPDATE tk SET v = 'changed' WHERE k IN ('a', 'a' || chr(1) || chr(1));
	UPDATE tc SET v = 'changed' WHERE a = 'a,b' AND b = 3;
	DELETE FROM tc WHERE a = 'a,b' AND b = 4;" >/dev/null
seen pgk_dst >/dev/null
expect_exit 1 "the planted differences are found" "$BARGE" verify plan.yaml --report diff.json
check "four differences" python3 -c "import json; r=json.load(open('diff.json')); t={x['table']:x for x in r['tables']}; assert t['tk']['changed'] == 2 and t['tc']['changed'] == 1 and t['tc']['missing'] == 1"
expect_exit 0 "barge fix" "$BARGE" fix plan.yaml
check "fix touched exactly the differing rows" \
	[ "$(seen pgk_dst)" = "tc:d:612c62/3 tc:i:612c62/3 tc:i:612c62/4 tk:d:61 tk:d:610101 tk:i:61 tk:i:610101" ]
expect_exit 0 "verify after fix: equal" "$BARGE" verify plan.yaml
check "tk exact" pg_same pgk_src pgk_dst tk 'k COLLATE "C"'
check "tc exact" pg_same pgk_src pgk_dst tc 'a COLLATE "C", b'

# ---- a NUL in a text key cannot reach PostgreSQL's SQL -------------------------
sqlite3 nul.db "CREATE TABLE tk (k TEXT NOT NULL PRIMARY KEY, v TEXT);
	INSERT INTO tk VALUES (CAST(x'6100' AS TEXT), 'nul'), ('a', 'a');"
cat > nul.yaml <<PLAN
source: sqlite:nul.db
target: $(pg_url pgk_dst)
state: nul-state.db
defaults: {mode: replace}
tables: [tk]
PLAN
"$BARGE" run nul.yaml --table tk --key '[{"x":"6100"}]' --no-progress >nul.out 2>&1
check "a NUL key into PostgreSQL fails" [ $? != 0 ]
check "... saying why" grep -q 'NUL' nul.out
check "... and not with broken SQL" bash -c '! grep -q "unterminated" nul.out'
check "... leaving the target as it was" [ "$(tkv pgk_dst)" = "src 61 src 6101 src 610101 src 610102 src 6102 src 62" ]
finish
