# The run's exported snapshot lost before every worker could join it:
#  1. the planning connection (which exported it) terminated between the
#     planning and the workers joining (a BARGE_TEST_PAUSE point holds the
#     run there);
#  2. the planning connection terminated while the workers copy, then the
#     workers' own source connections too, so they must reconnect.
# Either way the run takes a new snapshot and goes on: it ends done and
# exact, and the log, the summary and the report say the run read more
# than one snapshot (each chunk is consistent, the run as a whole is not).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgsl_src
pg_fresh pgsl_dst
pg_shop pgsl_src 200000

kill_src() { pg_kill_barge pgsl_src "$1"; }
renewals() { sqlite3 "$1" "SELECT count(*) FROM log WHERE event = 'snapshot'"; }

# 1. Paused after planning: only the planning connection is open on the
# source. Terminate it, and add a row the old snapshot cannot see.
pause=$PWD/pause.flag
rm -f "$pause"
BARGE_TEST_PAUSE=after-plan:$pause "$BARGE" copy "$(pg_url pgsl_src)" "$(pg_url pgsl_dst)" \
	--state st1.db --jobs 2 --chunk-rows 20000 --no-progress --report r1.json >out1.txt 2>&1 &
bpid=$!
for _ in $(seq 1 3000); do [ -f "$pause" ] && break; sleep 0.01; done
check "the run paused after planning" [ -f "$pause" ]
check "one source connection at the pause" [ "$(kill_src true)" = 1 ]
pg_sql pgsl_src "INSERT INTO orders VALUES (200001, 1, 'after the first snapshot', 1)" >/dev/null
rm -f "$pause"
wait "$bpid"
rc=$?
cat out1.txt >&2
check "the run ended done (exit $rc)" [ "$rc" = 0 ]
check "a new snapshot was taken" [ "$(renewals st1.db)" -ge 1 ]
check "the report says so" grep -q '"snapshot_renewals":[1-9]' r1.json
check "the summary warns" grep -q "snapshot was lost" out1.txt
check "the row added before the new snapshot was copied" \
	[ "$(pg_val pgsl_dst "SELECT count(*) FROM orders")" = 200001 ]
check "customers exact" pg_same pgsl_src pgsl_dst customers id
check "orders exact" pg_same pgsl_src pgsl_dst orders id
check "foreign key made" [ "$(pg_val pgsl_dst "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")" = 1 ]

# 2. While the workers copy: the planning connection first, then every
# source connection running a COPY (the workers' own), once.
pg_fresh pgsl_dst
rm -f stop killed
pg_kill_in_turn pgsl_src "$(pg_leader_copying pgsl_src)" "query LIKE 'COPY%'" &
kpid=$!
expect_exit 0 "copy with the planning and the workers' connections lost" "$BARGE" copy \
	"$(pg_url pgsl_src)" "$(pg_url pgsl_dst)" --state st2.db --jobs 2 --chunk-rows 2000 \
	--retries 20 --no-progress
touch stop
wait "$kpid"
check "the workers' source connections were terminated" [ -f killed ]
check "a new snapshot was taken" [ "$(renewals st2.db)" -ge 1 ]
check "every unit done" [ "$(sqlite3 st2.db "SELECT count(*) FROM units WHERE status != 'done'")" = 0 ]
check "customers exact" pg_same pgsl_src pgsl_dst customers id
check "orders exact" pg_same pgsl_src pgsl_dst orders id
finish
