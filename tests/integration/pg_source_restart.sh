# The source server restarts mid-run (pg_ctl restart of a cluster of this
# test's own): every copy of the run's snapshot is gone, the chunks in
# flight fail, the workers reconnect once the server is back (retrying
# while it starts up), take a new snapshot (the log, the summary and the
# report say so), and the run ends done and exact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_own_cluster || { bad "own cluster"; finish; exit; }
own_sql() { "${PSQL[@]}" -At -p "$OWN_PORT" -d postgres -c "$1"; }

own_sql "CREATE TABLE big (id bigint PRIMARY KEY, a int, t text, n numeric(12,2), ts timestamptz);
	CREATE INDEX big_a_idx ON big (a);
	INSERT INTO big SELECT g, g % 1000, md5(g::text), g / 7.0, '2020-01-01'::timestamptz + g * interval '1 second'
	FROM generate_series(1, 300000) g;" >/dev/null
pg_fresh pgsr_dst

# once some chunks are in: restart the source server
rm -f stop restarted.txt
own_restart_after pg_val pgsr_dst "SELECT count(*) FROM big" &
rpid=$!
expect_exit 0 "copy while the source restarts" "$BARGE" copy \
	"postgresql://postgres@127.0.0.1:$OWN_PORT/postgres" "$(pg_url pgsr_dst)" \
	--state st.db --jobs 2 --chunk-rows 2000 --retries 50 --no-progress --report r.json
touch stop
wait "$rpid"
check "the source server was restarted" [ -f restarted.txt ]
check "chunks were retried" [ "$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'retry'")" -gt 0 ]
check "a new snapshot was taken" [ "$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'snapshot'")" -ge 1 ]
check "the report says so" grep -q '"snapshot_renewals":[1-9]' r.json
check "every unit done" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
check "target exact" cmp -s \
	<("${PSQL[@]}" -p "$OWN_PORT" -d postgres -c "\\copy (SELECT * FROM big ORDER BY id) TO STDOUT") \
	<(pg_dump_table pgsr_dst big id)
check "index made" [ "$(pg_val pgsr_dst "SELECT count(*) FROM pg_indexes WHERE indexname = 'big_a_idx'")" = 1 ]
finish
