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
pg_sql pgl_src "
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
	t text, n numeric(12,2));
CREATE INDEX orders_customer_idx ON orders (customer_id);
INSERT INTO customers SELECT g, 'c' || g || '@x' FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, md5(g::text), g / 7.0 FROM generate_series(1, 300000) g;
ANALYZE;" >/dev/null

# The planning connection is the run's first connection to the source;
# terminate it once, as soon as workers copy (they have joined the
# snapshot by then).
killer() {
	while [ ! -f stop ]; do
		n=$(pg_val postgres "SELECT count(pg_terminate_backend(pid)) FROM (
			SELECT pid FROM pg_stat_activity WHERE datname = 'pgl_src'
			AND application_name = 'barge' ORDER BY backend_start LIMIT 1) l
			WHERE EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = 'pgl_src'
				AND query LIKE 'COPY%')" 2>/dev/null || echo 0)
		if [ "$n" -gt 0 ]; then
			echo "$n" >killed
			return
		fi
		sleep 0.02
	done
}
rm -f stop killed
killer &
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
