#!/usr/bin/env bash
# bench/pg.sh: a full PostgreSQL -> PostgreSQL copy of issue 3's dataset
# (customers + orders) into an empty database, timed for four tools in one
# run: barge copy --jobs 2, pgcopydb clone, pgloader and the psql binary
# COPY pipe. Prints each tool's wall time (median of RUNS), barge's ratio to
# each, and barge's peak RSS. It never asserts a timing: it only prints,
# after checking every target's row counts. See bench/README.md.
#
# Environment: ROWS (orders rows, default 5000000), CUSTOMERS (200000),
# RUNS (3), JOBS (2), TOOLS ("barge pgcopydb pgloader pipe"), BENCH_DIR
# (build/bench), BUILD_DIR (build-release), BARGE_ARGS (extra arguments
# for barge copy), BARGE (the binary; default $BUILD_DIR/barge, built here),
# KEEP=1 keeps the cluster running at the end. BARGE_BASE=PATH adds the
# tool "base": another barge binary (an earlier build) run the same way,
# interleaved with the others, to compare two builds on one noisy machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS=${ROWS:-5000000}
CUSTOMERS=${CUSTOMERS:-200000}
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
TOOLS=${TOOLS:-barge pgcopydb pgloader pipe}
BENCH_DIR=${BENCH_DIR:-build/bench}
BUILD_DIR=${BUILD_DIR:-build-release}
BARGE=${BARGE:-$BUILD_DIR/barge}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
read -r -a EXTRA <<<"${BARGE_ARGS:-}"
GNU_TIME=/usr/bin/time

# timed, median, bench_need, bench_build, bench_rounds, bench_report
. bench/lib.bash
bench_need "$GNU_TIME cmake $PGBIN/initdb" "pgcopydb:pgcopydb pgloader:pgloader"

bench_build

# ---- A throwaway cluster on loopback (as tests/pg/cluster.sh) -------------
export BARGE_TEST_TMP=$BENCH_DIR/cluster
bash tests/pg/cluster.sh start
stop_cluster() {
	if [[ -z ${KEEP:-} ]]; then
		bash tests/pg/cluster.sh stop
	else
		echo "bench: cluster kept: $(bash tests/pg/cluster.sh env | grep BARGE_PG_URL)" >&2
	fi
}
trap stop_cluster EXIT
# shellcheck disable=SC1091
. "$BARGE_TEST_TMP/pg/env"
export PATH="$PGBIN:$PATH" PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
url() { echo "$BARGE_PG_URL/$1"; }
# A benchmark server, not a test one: room for COPY and index builds.
"${PSQL[@]}" -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
	-c "ALTER SYSTEM SET shared_buffers = '512MB'" \
	-c "ALTER SYSTEM SET maintenance_work_mem = '256MB'" \
	-c "ALTER SYSTEM SET checkpoint_timeout = '30min'"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$BARGE_PG_DIR/data" -w restart -m fast >/dev/null 2>&1 ||
	"$PGBIN/pg_ctl" -D "$BARGE_PG_DIR/data" -w restart -m fast >/dev/null

# ---- The source ---------------------------------------------------------
echo "bench: generating customers ($CUSTOMERS) and orders ($ROWS)" >&2
t0=$EPOCHREALTIME
createdb src
"${PSQL[@]}" -d src <<EOSQL
CREATE TABLE customers (
	id bigint PRIMARY KEY,
	name text NOT NULL,
	email text NOT NULL,
	country char(2),
	created_at timestamptz NOT NULL
);
CREATE TABLE orders (
	id bigint PRIMARY KEY,
	customer_id bigint NOT NULL REFERENCES customers (id),
	created_at timestamptz NOT NULL,
	shipped_at timestamptz,
	amount numeric(12,2) NOT NULL,
	quantity int NOT NULL,
	status text NOT NULL,
	note text,
	attrs jsonb,
	ref uuid NOT NULL,
	paid boolean NOT NULL,
	score double precision
);
ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;
INSERT INTO customers
SELECT g, 'customer ' || g, 'c' || g || '@example.com',
	(ARRAY['DE','FR','US','JP','BR'])[1 + g % 5],
	'2015-01-01'::timestamptz + g * interval '7 minutes'
FROM generate_series(1::bigint, $CUSTOMERS) g;
INSERT INTO orders
SELECT g, 1 + (g * 7919) % $CUSTOMERS,
	'2020-01-01'::timestamptz + g * interval '13 seconds',
	CASE WHEN g % 10 <> 0 THEN '2020-01-02'::timestamptz + g * interval '13 seconds' END,
	((g * 37) % 100000) / 100.0,
	1 + g % 9,
	(ARRAY['new','paid','shipped','delivered','returned'])[1 + g % 5],
	CASE WHEN g % 4 = 0 THEN 'please leave at the door, order ' || g END,
	jsonb_build_object('channel', (ARRAY['web','app','phone'])[1 + g % 3], 'items', 1 + g % 9, 'gift', g % 11 = 0),
	md5(g::text)::uuid,
	g % 3 <> 0,
	(g % 1000) / 7.0
FROM generate_series(1::bigint, $ROWS) g;
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE UNIQUE INDEX customers_email_key ON customers (email);
VACUUM ANALYZE;
EOSQL
src_bytes=$("${PSQL[@]}" -At -d src -c "SELECT pg_size_pretty(pg_database_size('src'))")
printf 'bench: source ready in %.1f s (%s)\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')" "$src_bytes" >&2

# ---- Timing -------------------------------------------------------------

fresh_target() {
	dropdb --if-exists --force dst
	createdb dst
}
# Every tool must leave the same row counts, indexes and foreign keys.
check_target() { # check_target TOOL
	local c o
	c=$("${PSQL[@]}" -At -d dst -c "SELECT count(*) FROM customers")
	o=$("${PSQL[@]}" -At -d dst -c "SELECT count(*) FROM orders")
	if [[ $c != "$CUSTOMERS" || $o != "$ROWS" ]]; then
		echo "bench: $1 left customers=$c orders=$o, expected $CUSTOMERS and $ROWS" >&2
		return 1
	fi
	local idx fks
	idx=$("${PSQL[@]}" -At -d dst -c "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
	fks=$("${PSQL[@]}" -At -d dst -c "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
	echo "$idx indexes, $fks foreign keys"
}

# The pipe: schema before the data, COPY binary per table (the two tables
# at once, as two jobs), then indexes and constraints.
pipe_copy() {
	pg_dump -d src --section=pre-data | "${PSQL[@]}" -d dst >/dev/null
	local pids=() t
	for t in customers orders; do
		psql -X -d src -c "COPY $t TO STDOUT (FORMAT binary)" |
			psql -X -q -d dst -c "COPY $t FROM STDIN (FORMAT binary)" &
		pids+=($!)
	done
	for t in "${pids[@]}"; do wait "$t"; done
	pg_dump -d src --section=post-data | "${PSQL[@]}" -d dst >/dev/null
}
export -f pipe_copy
export PSQL_STR="${PSQL[*]}"

pgloader_cmd() {
	cat >"$BENCH_DIR/pg.load" <<EOT
LOAD DATABASE
	FROM $(url src)
	INTO $(url dst)
WITH include drop, create tables, create indexes, reset sequences,
	foreign keys, workers = $((JOBS * 2)), concurrency = 1,
	prefetch rows = 25000
;
EOT
	echo "$BENCH_DIR/pg.load"
}

run_tool() { # run_tool TOOL: prints "seconds rss_kb"
	case $1 in
	barge)
		rm -f "$BENCH_DIR/pg-state.db"*
		timed "$BARGE" copy "$(url src)" "$(url dst)" --jobs "$JOBS" \
			--state "$BENCH_DIR/pg-state.db" --no-progress "${EXTRA[@]}"
		;;
	base)
		rm -f "$BENCH_DIR/pg-state-base.db"*
		timed "$BARGE_BASE" copy "$(url src)" "$(url dst)" --jobs "$JOBS" \
			--state "$BENCH_DIR/pg-state-base.db" --no-progress "${EXTRA[@]}"
		;;
	pgcopydb)
		rm -rf "$BENCH_DIR/pgcopydb"
		timed pgcopydb clone --source "$(url src)" --target "$(url dst)" \
			--table-jobs "$JOBS" --index-jobs "$JOBS" --dir "$BENCH_DIR/pgcopydb" \
			--no-owner --no-acl
		;;
	pgloader)
		timed pgloader --no-ssl-cert-verification "$(pgloader_cmd)"
		;;
	pipe)
		timed env PSQL_BIN=psql bash -c 'PSQL=($PSQL_STR); pipe_copy'
		;;
	esac
}

prepare_run() {
	fresh_target
	"${PSQL[@]}" -c CHECKPOINT
}
declare -A T M
echo "bench: PostgreSQL -> PostgreSQL, customers $CUSTOMERS + orders $ROWS rows, $RUNS runs" >&2
bench_rounds
if [[ " $TOOLS " == *" barge "* ]]; then
	chunks=$(sqlite3 "$BENCH_DIR/pg-state.db" "SELECT count(*) FROM units WHERE digest IS NOT NULL AND status = 'done'" 2>/dev/null || echo "?")
fi

bench_report "PostgreSQL -> PostgreSQL: customers $CUSTOMERS + orders $ROWS rows into an empty database"
[[ -n ${T[barge]:-} && ${T[barge]} != *FAIL* ]] && echo "barge: $chunks chunks with digests recorded in the state store"
echo "aims: barge/pgcopydb <= 1.00, barge/pgloader <= 0.50, barge peak RSS <= 200 MiB"
