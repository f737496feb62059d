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

# Whether the Python expression EXPR holds of the verify report FILE, with
# t its tables by name.
report_py() { # report_py FILE EXPR
	python3 -c "import json,sys; r=json.load(open('$1')); t={x['table']:x for x in r['tables']}; sys.exit(0 if ($2) else 1)"
}
# The verify fast path against barge's C encoder: URL compared with
# itself, one row per chunk, one side streamed and hashed in C
# (BARGE_NO_FASTPATH) and the other digested in the database, each way
# round (reports d_target.json, d_source.json). Each of TABLES (comma-
# separated) must take the fast path and WHO (the two digests) agree.
fastpath_agrees() { # fastpath_agrees WHO URL TABLES [VERIFY OPTION]...
	local who=$1 url=$2 tables=$3 side want t
	shift 3
	for side in target source; do
		expect_exit 0 "$side streams: equal" env BARGE_NO_FASTPATH=$side "$BARGE" verify "$url" "$url" \
			--tables "$tables" --chunk-rows 1 --report d_$side.json "$@"
		want="in-database (source), streamed (target)"
		[ $side = source ] && want="streamed (source), in-database (target)"
		for t in ${tables//,/ }; do
			check "$t ($side streams): the fast path was used" report_py d_$side.json "t['$t']['digests'] == '$want'"
			check "$t ($side streams): $who digests agree on every row" report_py d_$side.json "t['$t']['chunks_differing'] == 0 and t['$t']['source_rows'] > 0"
		done
	done
}
