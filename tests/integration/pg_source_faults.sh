# Transient faults on the PostgreSQL source: a loop terminates the source
# backends that are running a chunk's COPY (pg_terminate_backend) while a
# copy runs. The chunk is retried on a new source connection that joins the
# run's snapshot again, and the run still ends exact. Rows changed on the
# source during the run are not seen (one snapshot for every chunk).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgs_src
pg_fresh pgs_dst
pg_sql pgs_src "CREATE TABLE big (id bigint PRIMARY KEY, a int, t text, n numeric(12,2), ts timestamptz);
	INSERT INTO big SELECT g, g % 1000, md5(g::text), g / 7.0, '2020-01-01'::timestamptz + g * interval '1 second'
	FROM generate_series(1, 400000) g;" >/dev/null
pg_dump_table pgs_src big id >before.txt

# Only the backends that ran a chunk's COPY (running it or idle between
# chunks): the planning connection, idle in the
# snapshot's transaction, must live for the snapshot to be joined again.
killer() {
	local changed=0 n=0
	while [ ! -f stop ]; do
		n=$(pg_val postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = 'pgs_src' AND application_name = 'barge'
			AND query LIKE 'COPY%' AND pid <> pg_backend_pid()" 2>/dev/null || echo 0)
		echo "$n" >>kills.txt
		# a change after the snapshot was taken: the copy must not see it
		if [ $changed = 0 ] && [ "$n" -gt 0 ]; then
			pg_sql pgs_src "UPDATE big SET t = 'changed' WHERE id % 1000 = 0" >/dev/null && changed=1
		fi
		sleep 0.1
	done
}
rm -f stop kills.txt
killer &
kpid=$!
expect_exit 0 "copy under source backend terminations" "$BARGE" copy "$(pg_url pgs_src)" "$(pg_url pgs_dst)" \
	--state st.db --jobs 2 --chunk-rows 2000 --retries 50 --no-progress
touch stop
wait "$kpid"
killed=$(awk '{s+=$1} END {print s+0}' kills.txt)
retries=$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'retry'")
echo "source backends terminated: $killed, chunk retries: $retries"
check "source backends were terminated ($killed)" [ "$killed" -gt 0 ]
check "chunks were retried ($retries)" [ "$retries" -gt 0 ]
check "every unit done" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
check "target exact (the snapshot's rows, not the changed ones)" cmp -s before.txt <(pg_dump_table pgs_dst big id)
finish
