# The source's planning connection (the one that exported the run's
# snapshot) is terminated once the workers copy. The workers hold the
# snapshot in their own open transactions, so every chunk still reads it;
# the finishing step (indexes, foreign keys, made from the source's
# catalog) reconnects, and the run ends done and exact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgl_src
pg_fresh pgl_dst
pg_shop pgl_src 300000
pg_sql pgl_src "CREATE INDEX orders_customer_idx ON orders (customer_id)" >/dev/null

# The planning connection is the run's first connection to the source;
# terminate it once, as soon as workers copy (they have joined the
# snapshot by then).
rm -f stop killed
pg_kill_in_turn pgl_src "$(pg_leader_copying pgl_src)" &
kpid=$!
expect_exit 0 "copy with the planning connection lost" "$BARGE" copy "$(pg_url pgl_src)" "$(pg_url pgl_dst)" \
	--state st.db --jobs 2 --chunk-rows 2000 --no-progress
touch stop
wait "$kpid"
check "the planning connection was terminated" [ -f killed ]
check "the finishing step reconnected" \
	[ "$(sqlite3 st.db "SELECT count(*) FROM log WHERE event = 'reconnect'")" -ge 1 ]
check "customers exact" pg_same pgl_src pgl_dst customers id
check "orders exact" pg_same pgl_src pgl_dst orders id
check "indexes made" [ "$(pg_val pgl_dst "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")" = 4 ]
check "foreign key made" [ "$(pg_val pgl_dst "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")" = 1 ]

finish
