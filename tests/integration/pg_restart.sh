# The target server restarts mid-run (pg_ctl restart of a cluster of this
# test's own, not the shared one): the chunks in flight fail, the workers
# reconnect once the server is back (retrying while it starts up), and the
# run still ends exact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_own_cluster || { bad "own cluster"; finish; exit; }
own_val() { "${PSQL[@]}" -At -p "$OWN_PORT" -d postgres -c "$1"; }

pg_fresh pgr_src
pg_big pgr_src 300000

# once some chunks are in: restart the target server
rm -f stop restarted.txt
own_restart_after own_val "SELECT count(*) FROM big" &
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
