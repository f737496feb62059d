# Transient faults on the PostgreSQL target: a loop terminates barge's
# backends on the target (pg_terminate_backend) while a copy runs; every
# chunk is retried on a new connection and the run still ends exact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgf_src
pg_fresh pgf_dst
pg_big pgf_src 200000

# Kill every target backend of barge's a few times a second, in the
# background, while chunks are copied: from the first committed chunk on,
# so that the run's setup (which is not retried) is not what gets killed,
# until every unit is done. Finishing, which outlasts the 0.3 s between
# kills on a loaded machine, has its own cuts below.
pending() { sqlite3 st.db "SELECT count(*) FROM units WHERE status <> 'done'" 2>/dev/null || echo 1; }
killer() {
	until [ -f stop ] || [ "$(pg_val pgf_dst "SELECT count(*) FROM big" 2>/dev/null || echo 0)" -gt 0 ]; do
		sleep 0.05
	done
	while [ ! -f stop ] && [ "$(pending)" != 0 ]; do
		pg_val postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = 'pgf_dst' AND application_name = 'barge' AND pid <> pg_backend_pid()" \
			>>kills.txt 2>/dev/null
		sleep 0.3
	done
}
pg_copy_killed killer backends pgf_src pgf_dst 5000
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

# The finishing connection lost before its first statement: the run is
# held after the copy (BARGE_TEST_PAUSE before-finish, the finishing
# connection open) and barge's target backends are terminated. Finishing runs again on a new target connection, and the
# run ends done with the indexes.
pg_fresh pgf_dst3
pause=$PWD/finish.flag
rm -f "$pause"
BARGE_TEST_PAUSE=before-finish:$pause "$BARGE" copy "$(pg_url pgf_src)" "$(pg_url pgf_dst3)" \
	--state st3.db --jobs 2 --no-progress >out3.txt 2>&1 &
bpid=$!
for _ in $(seq 1 6000); do [ -f "$pause" ] && break; sleep 0.01; done
check "the run paused before finishing" [ -f "$pause" ]
check "its target connections terminated" [ "$(pg_kill_barge pgf_dst3 true)" -ge 1 ]
rm -f "$pause"
wait "$bpid"
rc=$?
[ "$rc" = 0 ] || cat out3.txt >&2
check "the run ended done (exit $rc)" [ "$rc" = 0 ]
check "finishing was retried" [ "$(sqlite3 st3.db "SELECT count(*) FROM log WHERE event = 'retry' AND unit IS NULL")" = 1 ]
check "both indexes made after the lost connection" [ "$(pg_val pgf_dst3 "SELECT count(*) FROM pg_indexes WHERE tablename = 'big' AND indexname IN ('big_a_idx', 'big_ts_idx')")" = 2 ]
check "target exact after the lost finishing connection" pg_same pgf_src pgf_dst3 big id
finish
