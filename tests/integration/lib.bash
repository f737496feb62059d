# Shared helpers for the integration scenarios (sourced, not run).
# Environment from ctest: BARGE (the binary), MKSHOP, BARGE_TEST_TMP.
set -u
: "${BARGE:?BARGE must point at the barge binary}"
: "${BARGE_TEST_TMP:=/tmp/barge-test}"
SCENARIO=$(basename "${BASH_SOURCE[1]}" .sh)
WORK="$BARGE_TEST_TMP/$SCENARIO"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 1
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
check() { # check "what" command...
	local what=$1; shift
	if "$@"; then ok; else bad "$what"; fi
}
expect_exit() { # expect_exit CODE "what" command...
	local want=$1 what=$2; shift 2
	"$@" >"$WORK/last.out" 2>"$WORK/last.err"
	local got=$?
	if [ "$got" = "$want" ]; then ok; else
		bad "$what: exit $got, wanted $want"
		sed 's/^/  | /' "$WORK/last.err" >&2
	fi
}
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}

# The columns of a table, comma-separated and quoted.
cols() { sqlite3 "$1" "SELECT group_concat('\"' || name || '\"', ',') FROM pragma_table_info('$2')"; }

# Exact multiset equality of a table in two SQLite files: every value with
# its storage class, duplicates counted (REAL compares bit for bit; SQLite
# only equates -0.0 and 0.0).
same_table() { # same_table A.db B.db TABLE
	local a=$1 b=$2 t=$3 c tc
	c=$(cols "$a" "$t")
	tc=$(sqlite3 "$a" "SELECT group_concat('typeof(\"' || name || '\")', '||') FROM pragma_table_info('$t')")
	local q="SELECT $tc AS ty, $c, count(*) FROM %s.\"$t\" GROUP BY ty, $c"
	local diff
	diff=$(sqlite3 "$a" "ATTACH '$b' AS o;
		SELECT count(*) FROM ($(printf "$q" main) EXCEPT $(printf "$q" o));
		SELECT count(*) FROM ($(printf "$q" o) EXCEPT $(printf "$q" main));
		SELECT (SELECT count(*) FROM main.\"$t\") - (SELECT count(*) FROM o.\"$t\");")
	[ "$(echo $diff)" = "0 0 0" ] || { echo "table $t differs: $diff" >&2; return 1; }
}

# Digest of a whole database's tables (for "unchanged" checks).
db_digest() { # db_digest FILE
	local t out=""
	for t in $(sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
		out+="$t:$(sqlite3 "$1" "SELECT * FROM \"$t\" ORDER BY $(cols "$1" "$t")" | md5sum)"
	done
	echo "$out" | md5sum
}
