# Helpers for the MySQL scenarios (sourced after lib.bash). The server is
# the ctest fixture's (tests/mysql/server.sh start).
if [ ! -f "$BARGE_TEST_TMP/mysql/env" ]; then
	echo "no MariaDB test server: run through ctest (fixture mysql_server)" >&2
	exit 1
fi
. "$BARGE_TEST_TMP/mysql/env"

MY=(mariadb --no-defaults -uroot --socket="$BARGE_MY_SOCKET" --batch --skip-column-names)

my_fresh() { # my_fresh DB: an empty database of that name
	"${MY[@]}" -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\`"
}
my_url() { echo "$BARGE_MY_URL/$1"; }
my_sql() { # my_sql DB SQL
	"${MY[@]}" -D "$1" -e "$2"
}
# A table's rows in key order as the client prints them (binary columns
# escaped): byte-comparable across databases.
my_dump() { # my_dump DB TABLE ORDER
	"${MY[@]}" -D "$1" -e "SELECT * FROM \`$2\` ORDER BY $3"
}
my_same() { # my_same DB1 DB2 TABLE ORDER
	cmp -s <(my_dump "$1" "$3" "$4") <(my_dump "$2" "$3" "$4")
}
# Two tables in DB: big (ROWS rows, an integer key) and pairs (PAIRS
# rows, a composite key with a binary text column).
my_big() { # my_big DB ROWS PAIRS
	my_sql "$1" "
CREATE TABLE big (id int PRIMARY KEY, a int, t varchar(40), d decimal(12,2), ts datetime(6));
INSERT INTO big SELECT seq, seq % 1000, MD5(seq), seq / 7, '2020-01-01' + INTERVAL seq SECOND
  FROM seq_1_to_$2;
CREATE TABLE pairs (k1 int NOT NULL, k2 varchar(40) COLLATE utf8mb4_bin NOT NULL, v int,
  PRIMARY KEY (k1, k2));
INSERT INTO pairs SELECT seq % 97, MD5(seq), seq FROM seq_1_to_$3;"
}
# A copy from SRC to DST with two workers (state STATE, chunks of 4000
# rows) while BG (a command) runs in the background until the file
# `stop`; it must succeed all the same, with chunks retried.
my_copy_during() { # my_copy_during WHAT SRC DST STATE BG...
	local what=$1 src=$2 dst=$3 state=$4 bpid retries
	shift 4
	rm -f stop
	"$@" &
	bpid=$!
	expect_exit 0 "copy while $what" "$BARGE" copy "$(my_url "$src")" "$(my_url "$dst")" \
		--state "$state" --jobs 2 --chunk-rows 4000 --batch-rows 1000 --retries 50 --no-progress
	touch stop
	wait "$bpid"
	retries=$(sqlite3 "$state" "SELECT count(*) FROM log WHERE event = 'retry'")
	echo "$what: chunk retries: $retries"
	check "$what: chunks were retried ($retries)" [ "$retries" -gt 0 ]
	check "$what: every unit done" [ "$(sqlite3 "$state" "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
}
