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
