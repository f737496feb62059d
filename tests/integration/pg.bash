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

# barge's backends on DB that match the SQL condition WHERE (on
# pg_stat_activity): terminated; prints how many.
pg_kill_barge() { # pg_kill_barge DB WHERE
	pg_val postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = '$1' AND application_name = 'barge' AND $2" 2>/dev/null || echo 0
}
# The condition for the planning connection of a run reading DB (its first
# connection there), once its workers copy (one of them runs a COPY).
pg_leader_copying() { # pg_leader_copying DB
	echo "pid = (SELECT pid FROM pg_stat_activity WHERE datname = '$1'
		AND application_name = 'barge' ORDER BY backend_start LIMIT 1)
		AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = '$1'
		AND query LIKE 'COPY%')"
}

# A cluster of the test's own (one it may restart), stopped at exit: sets
# OWN_PORT and OWN_DIR; own_restart restarts it.
pg_own_cluster() {
	OWN=$WORK/own
	BARGE_TEST_TMP=$OWN bash "$BARGE_SRC/tests/pg/cluster.sh" start 2>/dev/null || return 1
	trap 'BARGE_TEST_TMP=$OWN bash "$BARGE_SRC/tests/pg/cluster.sh" stop' EXIT
	OWN_PORT=$(sed -n 's/^export PGPORT=//p' "$OWN/pg/env")
	OWN_DIR=$(sed -n 's/^export BARGE_PG_DIR=//p' "$OWN/pg/env")
}
own_restart() {
	local ctl=("$PGBIN/pg_ctl" -D "$OWN_DIR/data" -m fast -w restart)
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "${ctl[@]}"; else "${ctl[@]}"; fi
}
# In the background: once COUNT... (a command printing a number) prints
# more than 0, restart the own cluster (restarted.txt says it did). The
# file `stop` ends the wait.
own_restart_after() { # own_restart_after COUNT...
	until [ -f stop ] || [ "$("$@" 2>/dev/null || echo 0)" -gt 0 ]; do
		sleep 0.05
	done
	[ -f stop ] && return
	own_restart >/dev/null 2>&1 && echo restarted >restarted.txt
}
# In the background: terminate barge's backends on DB matching each WHERE
# in turn, each once it matches some; `killed` says the last one was. The
# file `stop` ends it.
pg_kill_in_turn() { # pg_kill_in_turn DB WHERE...
	local db=$1 n
	shift
	while [ $# -gt 0 ] && [ ! -f stop ]; do
		n=$(pg_kill_barge "$db" "$1")
		[ "$n" -gt 0 ] && shift
		sleep 0.02
	done
	[ $# -eq 0 ] && echo done >killed
}
# A small shop in DB: customers (2000, a unique email) and ORDERS orders
# referencing them.
pg_shop() { # pg_shop DB ORDERS
	pg_sql "$1" "
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
	t text, n numeric(12,2));
INSERT INTO customers SELECT g, 'c' || g || '@x' FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, md5(g::text), g / 7.0 FROM generate_series(1, $2) g;
ANALYZE;" >/dev/null
}
# A table big in DB: ROWS rows (id 1..ROWS) of an int, a text, a numeric
# and a timestamptz, for the scenarios that need a copy to take a while.
pg_big() { # pg_big DB ROWS
	pg_sql "$1" "CREATE TABLE big (id bigint PRIMARY KEY, a int, t text, n numeric(12,2), ts timestamptz);
	INSERT INTO big SELECT g, g % 1000, md5(g::text), g / 7.0, '2020-01-01'::timestamptz + g * interval '1 second'
	FROM generate_series(1, $2) g;" >/dev/null
}
# A copy from SRC to DST (state st.db, two workers, chunks of CHUNK rows)
# while KILLER (a function) runs in the background until the file `stop`,
# adding to kills.txt how many of WHAT (the backends it aims at) it
# terminated: the copy must succeed all the same, with backends
# terminated, chunks retried and every unit done.
pg_copy_killed() { # pg_copy_killed KILLER WHAT SRC DST CHUNK
	local killer=$1 what=$2 kpid killed retries
	rm -f stop kills.txt
	"$killer" &
	kpid=$!
	expect_exit 0 "copy under $what terminations" "$BARGE" copy "$(pg_url "$3")" "$(pg_url "$4")" \
		--state st.db --jobs 2 --chunk-rows "$5" --retries 50 --no-progress
	touch stop
	wait "$kpid"
	killed=$(awk '{s+=$1} END {print s+0}' kills.txt)
	retries=$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'retry'")
	echo "$what terminated: $killed, chunk retries: $retries"
	check "$what were terminated ($killed)" [ "$killed" -gt 0 ]
	check "chunks were retried ($retries)" [ "$retries" -gt 0 ]
	check "every unit done" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
}
