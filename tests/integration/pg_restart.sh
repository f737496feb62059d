# The target server restarts mid-run (pg_ctl restart of a cluster of this
# test's own, not the shared one): the chunks in flight fail, the workers
# reconnect once the server is back (retrying while it starts up), and the
# run still ends exact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

OWN=$WORK/own
BARGE_TEST_TMP=$OWN bash "$BARGE_SRC/tests/pg/cluster.sh" start 2>/dev/null || { bad "own cluster"; finish; exit; }
trap 'BARGE_TEST_TMP=$OWN bash "$BARGE_SRC/tests/pg/cluster.sh" stop' EXIT
OWN_PORT=$(sed -n 's/^export PGPORT=//p' "$OWN/pg/env")
OWN_DIR=$(sed -n 's/^export BARGE_PG_DIR=//p' "$OWN/pg/env")
own_val() { "${PSQL[@]}" -At -p "$OWN_PORT" -d postgres -c "$1"; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_fresh pgr_src
pg_sql pgr_src "CREATE TABLE big (id bigint PRIMARY KEY, a int, t text, n numeric(12,2), ts timestamptz);
	INSERT INTO big SELECT g, g % 1000, md5(g::text), g / 7.0, '2020-01-01'::timestamptz + g * interval '1 second'
	FROM generate_series(1, 300000) g;" >/dev/null

restarter() { # once some chunks are in: restart the target server
	until [ -f stop ] || [ "$(own_val "SELECT count(*) FROM big" 2>/dev/null || echo 0)" -gt 0 ]; do
		sleep 0.05
	done
	[ -f stop ] && return
	as_owner "$PGBIN/pg_ctl" -D "$OWN_DIR/data" -m fast -w restart >/dev/null 2>&1 && echo restarted >restarted.txt
}
rm -f stop restarted.txt
restarter &
rpid=$!
expect_exit 0 "copy while the target restarts" "$BARGE" copy "$(pg_url pgr_src)" \
	"postgresql://postgres@127.0.0.1:$OWN_PORT/postgres" \
	--state st.db --jobs 2 --chunk-rows 2000 --retries 50 --no-progress
touch stop
wait "$rpid"
retries=$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'retry'")
echo "retries: $retries"
check "the target server was restarted" [ -f restarted.txt ]
check "chunks were retried ($retries)" [ "$retries" -gt 0 ]
check "every unit done" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
check "target exact" cmp -s <(pg_dump_table pgr_src big id) \
	<("${PSQL[@]}" -p "$OWN_PORT" -d postgres -c "\\copy (SELECT * FROM big ORDER BY id) TO STDOUT")
finish
