# Helpers for the PostgreSQL scenarios (sourced after lib.bash). The
# cluster is the ctest fixture's (tests/pg/cluster.sh start).
if [ ! -f "$BARGE_TEST_TMP/pg/env" ]; then
	echo "no PostgreSQL test cluster: run through ctest (fixture pg_cluster)" >&2
	exit 1
fi
. "$BARGE_TEST_TMP/pg/env"
export PATH="$PGBIN:$PATH"
export PGOPTIONS="-c client_min_messages=warning"

PSQL=(psql -X -q -v ON_ERROR_STOP=1)

pg_fresh() { # pg_fresh DB: an empty database of that name
	dropdb --if-exists --force "$1" && createdb "$1"
}
pg_url() { echo "$BARGE_PG_URL/$1"; }
pg_sql() { # pg_sql DB SQL
	"${PSQL[@]}" -d "$1" -c "$2"
}
pg_val() { # pg_val DB SQL: one value
	"${PSQL[@]}" -At -d "$1" -c "$2"
}
# A table as COPY text, ordered by its key: byte-comparable across DBs.
pg_dump_table() { # pg_dump_table DB TABLE ORDER
	"${PSQL[@]}" -d "$1" -c "\\copy (SELECT * FROM \"$2\" ORDER BY $3) TO STDOUT"
}
pg_same() { # pg_same DB1 DB2 TABLE ORDER
	cmp -s <(pg_dump_table "$1" "$3" "$4") <(pg_dump_table "$2" "$3" "$4")
}
