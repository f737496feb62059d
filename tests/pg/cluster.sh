#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests (no Docker, no system
# service): cluster.sh start|stop|env.
#
#   start  initdb + pg_ctl start on a free loopback port, the unix socket in
#          the cluster's own directory, fsync off (a test cluster is thrown
#          away, never recovered); writes $BARGE_TEST_TMP/pg/env
#   stop   stop the server and remove the cluster
#   env    print the env file (PGHOST, PGPORT, PGUSER, BARGE_PG_URL, ...)
#
# initdb refuses to run as root: as root the cluster belongs to the
# `postgres` system user (from the postgresql-15 package), in a directory
# that user can reach.
set -euo pipefail

: "${BARGE_TEST_TMP:=/tmp/barge-test}"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
STATE=$BARGE_TEST_TMP/pg
ENVFILE=$STATE/env

as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# A random high port; a taken one makes pg_ctl fail and start tries again.
free_port() {
	echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
}

start() {
	[[ -x $PGBIN/initdb ]] || { echo "cluster.sh: no $PGBIN/initdb (run scripts/bootstrap)" >&2; exit 1; }
	[[ -f $ENVFILE ]] && stop
	mkdir -p "$STATE"
	# The cluster lives where its owner can reach it: under /tmp when the
	# test tree is in a directory the postgres user cannot enter.
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/barge-pg.XXXXXX")
	chmod 755 "$dir"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
	as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
		-E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	local port tries=0
	while :; do
		port=$(free_port)
		if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
			start >/dev/null; then
			break
		fi
		tries=$((tries + 1))
		if ((tries >= 10)); then
			cat "$dir/server.log" >&2
			exit 1
		fi
	done
	cat >"$ENVFILE" <<EOT
export PGBIN=$PGBIN
export BARGE_PG_DIR=$dir
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=postgres
export PGDATABASE=postgres
export BARGE_PG_URL=postgresql://postgres@127.0.0.1:$port
EOT
	echo "cluster.sh: PostgreSQL on 127.0.0.1:$port ($dir)" >&2
}

stop() {
	[[ -f $ENVFILE ]] || return 0
	local dir
	dir=$(sed -n 's/^export BARGE_PG_DIR=//p' "$ENVFILE")
	if [[ -n $dir && -d $dir/data ]]; then
		as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
		rm -rf "$dir"
	fi
	rm -f "$ENVFILE"
}

case ${1:-} in
start) start ;;
stop) stop ;;
env) cat "$ENVFILE" ;;
*) echo "usage: cluster.sh start|stop|env" >&2; exit 2 ;;
esac
