# Transient faults on the PostgreSQL target: a loop terminates barge's
# backends on the target (pg_terminate_backend) while a copy runs; every
# chunk is retried on a new connection and the run still ends exact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgf_src
pg_fresh pgf_dst
pg_sql pgf_src "CREATE TABLE big (id bigint PRIMARY KEY, a int, t text, n numeric(12,2), ts timestamptz);
	INSERT INTO big SELECT g, g % 1000, md5(g::text), g / 7.0, '2020-01-01'::timestamptz + g * interval '1 second'
	FROM generate_series(1, 200000) g;" >/dev/null

# Kill every target backend of barge's a few times a second, in the
# background, until the copy ends; from the first committed chunk on, so
# that the run's setup (which is not retried) is not what gets killed.
killer() {
	until [ -f stop ] || [ "$(pg_val pgf_dst "SELECT count(*) FROM big" 2>/dev/null || echo 0)" -gt 0 ]; do
		sleep 0.05
	done
	while [ ! -f stop ]; do
		pg_val postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = 'pgf_dst' AND application_name = 'barge' AND pid <> pg_backend_pid()" \
			>>kills.txt 2>/dev/null
		sleep 0.3
	done
}
rm -f stop kills.txt
killer &
kpid=$!
expect_exit 0 "copy under backend terminations" "$BARGE" copy "$(pg_url pgf_src)" "$(pg_url pgf_dst)" \
	--state st.db --jobs 2 --chunk-rows 5000 --retries 50 --no-progress
touch stop
wait "$kpid"
killed=$(awk '{s+=$1} END {print s+0}' kills.txt)
retries=$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'retry'")
echo "backends terminated: $killed, chunk retries: $retries"
check "backends were terminated ($killed)" [ "$killed" -gt 0 ]
check "chunks were retried ($retries)" [ "$retries" -gt 0 ]
check "every unit done" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
check "target exact" pg_same pgf_src pgf_dst big id

# The finishing step loses its connection: the first CREATE INDEX on the
# target terminates its own backend (an event trigger; the sequence counts
# the attempts, and is not rolled back). The statement runs again on a new
# connection and the run ends done.
pg_fresh pgf_dst2
pg_sql pgf_src "CREATE INDEX big_a_idx ON big (a); CREATE INDEX big_ts_idx ON big (ts);" >/dev/null
pg_sql pgf_dst2 "
CREATE SCHEMA probe;
CREATE SEQUENCE probe.attempts;
CREATE FUNCTION probe.cut() RETURNS event_trigger LANGUAGE plpgsql AS
\$\$ BEGIN IF nextval('probe.attempts') = 1 THEN
	PERFORM pg_terminate_backend(pg_backend_pid()); END IF; END \$\$;
CREATE EVENT TRIGGER probe_cut ON ddl_command_start WHEN TAG IN ('CREATE INDEX')
	EXECUTE FUNCTION probe.cut();" >/dev/null
expect_exit 0 "copy whose finishing connection is terminated" "$BARGE" copy \
	"$(pg_url pgf_src)" "$(pg_url pgf_dst2)" --state st2.db --jobs 2 --no-progress
check "the index build was cut once and run again" \
	[ "$(pg_val pgf_dst2 "SELECT last_value FROM probe.attempts")" = 3 ]
check "both indexes made" [ "$(pg_val pgf_dst2 "SELECT count(*) FROM pg_indexes WHERE tablename = 'big' AND indexname IN ('big_a_idx', 'big_ts_idx')")" = 2 ]
check "target exact after the cut finish" pg_same pgf_src pgf_dst2 big id
finish
