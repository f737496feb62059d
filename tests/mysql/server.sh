#!/usr/bin/env bash
# A throwaway MariaDB server for the tests (no Docker, no system service):
# server.sh start|stop|env, like tests/pg/cluster.sh.
#
#   start  mariadb-install-db into a temporary directory, then mariadbd on a
#          free loopback port and a unix socket in that directory, with the
#          binary log on (the source driver proves the workers' snapshots
#          agree by it), local_infile on and durability off (a test server
#          is thrown away, never recovered); writes $BARGE_TEST_TMP/mysql/env
#   stop   stop the server and remove its directory
#   env    print the env file (BARGE_MY_URL, BARGE_MY_SOCKET, ...)
#
# Users: root (unix socket only) and barge@127.0.0.1 with no password and
# every privilege; database `test`.
set -euo pipefail

: "${BARGE_TEST_TMP:=/tmp/barge-test}"
STATE=$BARGE_TEST_TMP/mysql
ENVFILE=$STATE/env

free_port() {
	echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
}

# mariadbd refuses root unless told which user to run as.
user_opt() {
	if [[ $(id -u) -eq 0 ]]; then echo --user=root; fi
}

start() {
	command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] ||
		{ echo "server.sh: no mariadbd (run scripts/bootstrap)" >&2; exit 1; }
	[[ -f $ENVFILE ]] && stop
	mkdir -p "$STATE"
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/barge-my.XXXXXX")
	mariadb-install-db --no-defaults $(user_opt) --datadir="$dir/data" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
	local port tries=0 pid
	while :; do
		port=$(free_port)
		/usr/sbin/mariadbd --no-defaults $(user_opt) --datadir="$dir/data" \
			--port="$port" --bind-address=127.0.0.1 --socket="$dir/sock" \
			--pid-file="$dir/pid" --log-error="$dir/server.log" \
			--log-bin="$dir/binlog" --server-id=1 --binlog-format=ROW \
			--local-infile=1 --innodb-flush-log-at-trx-commit=0 \
			--sync-binlog=0 --innodb-buffer-pool-size=256M \
			--innodb-log-file-size=256M --max-connections=200 \
			--character-set-server=utf8mb4 --skip-name-resolve \
			--max-allowed-packet=256M </dev/null >>"$dir/stdout.log" 2>&1 &
		pid=$!
		local i
		for i in $(seq 1 300); do
			if mariadb --no-defaults -uroot --socket="$dir/sock" -e 'SELECT 1' >/dev/null 2>&1; then
				break 2
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		tries=$((tries + 1))
		if ((tries >= 10)); then
			cat "$dir/server.log" >&2
			exit 1
		fi
	done
	mariadb --no-defaults -uroot --socket="$dir/sock" <<'SQL'
CREATE DATABASE IF NOT EXISTS test;
CREATE USER 'barge'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'barge'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'barge'@'localhost' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'barge'@'localhost' WITH GRANT OPTION;
SQL
	cat >"$ENVFILE" <<EOT
export BARGE_MY_DIR=$dir
export BARGE_MY_PID=$pid
export BARGE_MY_PORT=$port
export BARGE_MY_SOCKET=$dir/sock
export BARGE_MY_URL=mysql://barge@127.0.0.1:$port
EOT
	echo "server.sh: MariaDB on 127.0.0.1:$port ($dir)" >&2
}

stop() {
	[[ -f $ENVFILE ]] || return 0
	local dir pid
	dir=$(sed -n 's/^export BARGE_MY_DIR=//p' "$ENVFILE")
	pid=$(sed -n 's/^export BARGE_MY_PID=//p' "$ENVFILE")
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	[[ -n $dir && -d $dir ]] && rm -rf "$dir"
	rm -f "$ENVFILE"
}

# The client for tests: `server.sh sql [DB] < statements` as root.
sql() {
	# shellcheck disable=SC1090
	. "$ENVFILE"
	mariadb --no-defaults -uroot --socket="$BARGE_MY_SOCKET" --batch --skip-column-names "$@"
}

case ${1:-} in
start) start ;;
stop) stop ;;
env) cat "$ENVFILE" ;;
sql) shift; sql "$@" ;;
*) echo "usage: server.sh start|stop|env|sql" >&2; exit 2 ;;
esac
