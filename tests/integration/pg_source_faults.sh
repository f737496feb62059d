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
pg_big pgs_src 400000
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
pg_copy_killed killer "source backends" pgs_src pgs_dst 2000
check "target exact (the snapshot's rows, not the changed ones)" cmp -s before.txt <(pg_dump_table pgs_dst big id)
finish
