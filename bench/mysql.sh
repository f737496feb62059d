#!/usr/bin/env bash
# bench/mysql.sh: issue 3's dataset (customers + orders) in a throwaway
# MariaDB, copied whole into an empty database by each tool in one run,
# interleaved: MySQL -> MySQL by barge copy --jobs 2 (LOAD DATA LOCAL
# INFILE from memory), by barge with the server's local_infile off (its
# multi-row INSERT path) and by mydumper -t 2 + myloader -t 2 (their
# total); MySQL -> PostgreSQL by barge --jobs 2 and by pgloader, with its
# defaults and tuned. Prints each tool's wall time (median of RUNS),
# barge's ratio to each (and every run's pair), and peak RSS. It never
# asserts a timing: it only prints, after checking every target's row
# counts. See bench/README.md.
#
# Environment: ROWS (orders rows, default 5000000), CUSTOMERS (200000),
# SCALE (a divisor of both, for a quick run: SCALE=50), RUNS (3), JOBS (2),
# TOOLS ("barge barge-insert mydumper barge-pg pgloader pgloader-tuned"),
# PGLOADER_TIMEOUT (seconds one pgloader run may take, 1800), BENCH_DIR
# (build/bench), BUILD_DIR (build-release), BARGE (the binary; default
# $BUILD_DIR/barge, built here), BARGE_PREBUILT=1 (do not build), KEEP=1
# keeps the servers running at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCALE=${SCALE:-1}
ROWS=${ROWS:-$((5000000 / SCALE))}
CUSTOMERS=${CUSTOMERS:-$((200000 / SCALE))}
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
TOOLS=${TOOLS:-barge barge-insert mydumper barge-pg pgloader pgloader-tuned}
PGLOADER_TIMEOUT=${PGLOADER_TIMEOUT:-1800}
BENCH_DIR=${BENCH_DIR:-build/bench}
BUILD_DIR=${BUILD_DIR:-build-release}
BARGE=${BARGE:-$BUILD_DIR/barge}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
GNU_TIME=/usr/bin/time

# timed, median, bench_need, bench_build, bench_rounds, bench_report
. bench/lib.bash
bench_need "$GNU_TIME cmake mariadbd $PGBIN/initdb" "mydumper:mydumper pgloader:pgloader pgloader-tuned:pgloader"

bench_build

# ---- Throwaway servers on loopback (as the tests start them) -------------
export BARGE_TEST_TMP=$BENCH_DIR/servers
bash tests/mysql/server.sh start
bash tests/pg/cluster.sh start
stop_servers() {
	if [[ -z ${KEEP:-} ]]; then
		bash tests/mysql/server.sh stop
		bash tests/pg/cluster.sh stop
	else
		echo "bench: servers kept under $BARGE_TEST_TMP" >&2
	fi
}
trap stop_servers EXIT
# shellcheck disable=SC1091
. "$BARGE_TEST_TMP/mysql/env"
# shellcheck disable=SC1091
. "$BARGE_TEST_TMP/pg/env"
export PATH="$PGBIN:$PATH" PGOPTIONS="-c client_min_messages=warning"
MY=(mariadb --no-defaults -uroot --socket="$BARGE_MY_SOCKET" --batch --skip-column-names)
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# ---- The source ---------------------------------------------------------
echo "bench: generating customers ($CUSTOMERS) and orders ($ROWS) in MariaDB" >&2
t0=$EPOCHREALTIME
"${MY[@]}" <<EOSQL
CREATE DATABASE src;
USE src;
CREATE TABLE customers (
	id bigint PRIMARY KEY,
	name varchar(100) NOT NULL,
	email varchar(100) NOT NULL,
	country char(2),
	created_at datetime(6) NOT NULL,
	UNIQUE KEY customers_email_key (email)
);
CREATE TABLE orders (
	id bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	created_at datetime(6) NOT NULL,
	shipped_at datetime(6),
	amount decimal(12,2) NOT NULL,
	quantity int NOT NULL,
	status varchar(16) NOT NULL,
	note text,
	attrs json,
	ref char(36) NOT NULL,
	paid tinyint(1) NOT NULL,
	score double,
	KEY orders_customer_id_idx (customer_id),
	KEY orders_created_at_idx (created_at),
	CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
);
SET foreign_key_checks = 0;
INSERT INTO customers
SELECT seq, CONCAT('customer ', seq), CONCAT('c', seq, '@example.com'),
	ELT(1 + seq % 5, 'DE', 'FR', 'US', 'JP', 'BR'),
	'2015-01-01' + INTERVAL seq * 7 MINUTE
FROM seq_1_to_$CUSTOMERS;
EOSQL
# orders in slices of a million rows (one transaction each)
for ((lo = 1; lo <= ROWS; lo += 1000000)); do
	hi=$((lo + 999999 > ROWS ? ROWS : lo + 999999))
	"${MY[@]}" -D src -e "SET foreign_key_checks = 0; INSERT INTO orders
SELECT seq, 1 + (seq * 7919) % $CUSTOMERS,
	'2020-01-01' + INTERVAL seq * 13 SECOND,
	IF(seq % 10 <> 0, '2020-01-02' + INTERVAL seq * 13 SECOND, NULL),
	((seq * 37) % 100000) / 100.0, 1 + seq % 9,
	ELT(1 + seq % 5, 'new', 'paid', 'shipped', 'delivered', 'returned'),
	IF(seq % 4 = 0, CONCAT('please leave at the door, order ', seq), NULL),
	JSON_OBJECT('channel', ELT(1 + seq % 3, 'web', 'app', 'phone'), 'items', 1 + seq % 9,
		'gift', seq % 11 = 0),
	CONCAT_WS('-', SUBSTR(m, 1, 8), SUBSTR(m, 9, 4), SUBSTR(m, 13, 4), SUBSTR(m, 17, 4),
		SUBSTR(m, 21, 12)),
	seq % 3 <> 0, (seq % 1000) / 7.0
FROM (SELECT seq, MD5(seq) m FROM seq_${lo}_to_${hi}) s"
done
"${MY[@]}" -D src -e "ANALYZE TABLE customers, orders" >/dev/null
src_mb=$("${MY[@]}" -e "SELECT ROUND(SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'src'")
printf 'bench: source ready in %.1f s (%s MiB)\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')" "$src_mb" >&2

# ---- Timing -------------------------------------------------------------
my_url() { echo "$BARGE_MY_URL/$1"; }
pg_url() { echo "$BARGE_PG_URL/$1"; }
# Every run starts from an empty target database on both servers, and the
# server's local_infile as the tool needs it (barge-insert: off).
prepare_run() {
	"${MY[@]}" -e "DROP DATABASE IF EXISTS dst; CREATE DATABASE dst;
		SET GLOBAL local_infile = $([[ $1 == barge-insert ]] && echo 0 || echo 1)"
	dropdb --if-exists --force dst
	createdb dst
	"${PSQL[@]}" -c CHECKPOINT
}
# Row counts must be the source's; prints the indexes and foreign keys made.
check_target() { # check_target TOOL
	local c o idx fks
	case $1 in
	barge | barge-insert | mydumper)
		c=$("${MY[@]}" -D dst -e "SELECT COUNT(*) FROM customers")
		o=$("${MY[@]}" -D dst -e "SELECT COUNT(*) FROM orders")
		idx=$("${MY[@]}" -e "SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'dst'")
		fks=$("${MY[@]}" -e "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'dst'")
		;;
	*) # pgloader puts a MySQL database's tables in a schema of its name
		local q=("${PSQL[@]}" -At -d dst -c "SET search_path = src, public")
		c=$("${q[@]}" -c "SELECT count(*) FROM customers")
		o=$("${q[@]}" -c "SELECT count(*) FROM orders")
		idx=$("${PSQL[@]}" -At -d dst -c "SELECT count(*) FROM pg_indexes WHERE schemaname IN ('public', 'src')")
		fks=$("${PSQL[@]}" -At -d dst -c "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
		;;
	esac
	if [[ $c != "$CUSTOMERS" || $o != "$ROWS" ]]; then
		echo "bench: $1 left customers=$c orders=$o, expected $CUSTOMERS and $ROWS" >&2
		return 1
	fi
	echo "$idx indexes, $fks foreign keys"
}

# mydumper splits tables into files of 500000 rows (-r; without it a table
# is one file, dumped and loaded by one thread), myloader loads them.
dump_load() {
	rm -rf "$BENCH_DIR/dump"
	mydumper -h 127.0.0.1 -P "$BARGE_MY_PORT" -u barge -B src -t "$JOBS" -r 500000 \
		-o "$BENCH_DIR/dump" &&
		myloader -h 127.0.0.1 -P "$BARGE_MY_PORT" -u barge -B dst -t "$JOBS" -o \
			-d "$BENCH_DIR/dump"
}
export -f dump_load
export BENCH_DIR BARGE_MY_PORT JOBS

# pgloader's MySQL source: with its defaults (no load file), and tuned (a
# load file: smaller batches, fewer rows prefetched, a bigger Lisp heap)
pgloader_tuned() {
	cat >"$BENCH_DIR/my.load" <<EOT
LOAD DATABASE
	FROM $(my_url src)
	INTO $(pg_url dst)
WITH include drop, create tables, create indexes, reset sequences,
	foreign keys, workers = $((JOBS * 2)), concurrency = 1,
	batch rows = 10000, prefetch rows = 10000
;
EOT
	echo "$BENCH_DIR/my.load"
}

run_tool() { # run_tool TOOL: prints "seconds rss_kb"
	case $1 in
	barge | barge-insert)
		rm -f "$BENCH_DIR/my-state.db"*
		timed "$BARGE" copy "$(my_url src)" "$(my_url dst)" --jobs "$JOBS" \
			--state "$BENCH_DIR/my-state.db" --no-progress
		;;
	barge-pg)
		rm -f "$BENCH_DIR/mypg-state.db"*
		timed "$BARGE" copy "$(my_url src)" "$(pg_url dst)" --jobs "$JOBS" \
			--state "$BENCH_DIR/mypg-state.db" --no-progress
		;;
	mydumper)
		timed bash -c dump_load
		;;
	pgloader)
		timed timeout "$PGLOADER_TIMEOUT" pgloader "$(my_url src)" "$(pg_url dst)"
		;;
	pgloader-tuned)
		timed timeout "$PGLOADER_TIMEOUT" pgloader --dynamic-space-size 4096 "$(pgloader_tuned)"
		;;
	esac
}

declare -A T M
echo "bench: MySQL -> MySQL and MySQL -> PostgreSQL, customers $CUSTOMERS + orders $ROWS rows, $RUNS runs" >&2
bench_rounds
"${MY[@]}" -e "SET GLOBAL local_infile = 1"
digests() { sqlite3 "$1" "SELECT count(*) || ' of ' || (SELECT count(*) FROM units) FROM units WHERE digest IS NOT NULL AND status = 'done'" 2>/dev/null || echo "?"; }

bench_report "MySQL -> MySQL: customers $CUSTOMERS + orders $ROWS rows into an empty database" \
	barge barge barge-insert mydumper
bench_report "MySQL -> PostgreSQL: customers $CUSTOMERS + orders $ROWS rows into an empty database" \
	barge-pg barge-pg pgloader pgloader-tuned
echo "barge chunks with digests recorded: MySQL $(digests "$BENCH_DIR/my-state.db"), PostgreSQL $(digests "$BENCH_DIR/mypg-state.db")"
echo "aims: barge/mydumper <= 0.50, barge-pg/pgloader <= 0.50, barge peak RSS <= 200 MiB"
