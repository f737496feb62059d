# Re-running replace or truncate over a finished PG -> PG target, whose
# tables now have the source's foreign keys: the keys between the job's
# tables are set aside for the data and made again after it (also when the
# run stops half way and resumes); a table outside the job that references
# a table truncate mode would empty stops the run before anything changes.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgfk_src
pg_fresh pgfk_dst
pg_sql pgfk_src "
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (
	id bigint PRIMARY KEY,
	customer_id bigint NOT NULL CONSTRAINT orders_customer_fk REFERENCES customers (id),
	amount numeric(12,2) NOT NULL
);
CREATE TABLE lines (
	order_id bigint NOT NULL REFERENCES orders (id) DEFERRABLE,
	n int NOT NULL,
	PRIMARY KEY (order_id, n)
);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 3000) g;
INSERT INTO orders SELECT g, 1 + g % 3000, g / 100.0 FROM generate_series(1, 20000) g;
INSERT INTO lines SELECT 1 + g % 20000, g FROM generate_series(1, 5000) g;
" >/dev/null

SRC=$(pg_url pgfk_src)
DST=$(pg_url pgfk_dst)
fks() { # the target's foreign keys, one line each
	pg_val pgfk_dst "SELECT conrelid::regclass || ' ' || conname || ' ' ||
		pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'
		ORDER BY 1"
}
all_same() {
	pg_same pgfk_src pgfk_dst customers id && pg_same pgfk_src pgfk_dst orders id &&
		pg_same pgfk_src pgfk_dst lines "order_id, n"
}
copy() { "$BARGE" copy "$SRC" "$DST" --state st.db --jobs 2 --chunk-rows 4000 --no-progress "$@"; }

expect_exit 0 "first copy" copy
check "first copy exact" all_same
want=$(fks)
check "foreign keys made after the data" [ "$(echo "$want" | wc -l)" = 2 ]
# customers (one chunk) is finished as soon as it is in, while orders (five
# chunks, two workers) still loads
early=$(sqlite3 st.db "SELECT min(id) FROM log WHERE message = 'indexes, constraints and sequences of customers made'")
last=$(sqlite3 st.db "SELECT max(id) FROM log WHERE event = 'done'")
before() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -lt "$2" ]; }
check "customers finished while orders loads" before "$early" "$last"

# truncate over the finished target: TRUNCATE customers alone is refused
# while orders references it
expect_exit 0 "truncate re-run over a target with foreign keys" copy --mode truncate --restart
check "truncate re-run exact" all_same
check "truncate re-run keeps the foreign keys" [ "$(fks)" = "$want" ]

# replace carries deletes of referenced rows (children deleted too)
pg_sql pgfk_src "
DELETE FROM lines WHERE order_id IN (SELECT id FROM orders WHERE customer_id <= 10);
DELETE FROM orders WHERE customer_id <= 10;
DELETE FROM customers WHERE id <= 10;
UPDATE orders SET amount = amount + 1 WHERE id % 7 = 0;" >/dev/null
expect_exit 0 "replace re-run deleting referenced rows" copy --mode replace --restart
check "replace re-run exact" all_same
check "replace re-run keeps the foreign keys" [ "$(fks)" = "$want" ]

# a run that fails half way has set the keys aside; the next run (a
# resume) makes them again
BARGE_FAULT=write_batch:error:3 expect_exit 1 "truncate run with a failing chunk" \
	copy --mode truncate --restart --retries 0
check "keys set aside while the run is unfinished" [ -z "$(fks)" ]
expect_exit 0 "resumed run" copy --mode truncate
check "resumed run exact" all_same
check "resumed run made the keys again" [ "$(fks)" = "$want" ]

# the same failure, then --restart: the new run takes over the keys
BARGE_FAULT=write_batch:error:3 expect_exit 1 "replace run with a failing chunk" \
	copy --mode replace --restart --retries 0
expect_exit 0 "restarted run" copy --mode replace --restart
check "restarted run exact" all_same
check "restarted run made the keys again" [ "$(fks)" = "$want" ]

# a table outside the job referencing a table truncate would empty: the
# run stops before anything changes (never a CASCADE into it)
pg_sql pgfk_dst "CREATE TABLE audit (customer_id bigint REFERENCES customers (id));
INSERT INTO audit VALUES (20);" >/dev/null
expect_exit 2 "truncate with an outside reference" copy --mode truncate --restart
check "the error names the outside table" grep -q "audit" "$WORK/last.err"
check "outside table untouched" [ "$(pg_val pgfk_dst "SELECT count(*) FROM audit")" = 1 ]
check "job tables untouched" all_same
check "keys untouched" [ "$(fks | grep -c -v audit)" = 2 ]
# replace mode leaves that check to PostgreSQL: the chunk deleting a row
# audit needs fails (a data error naming the constraint), nothing cascades
expect_exit 1 "replace with an outside reference" copy --mode replace --restart --retries 0
check "the chunk's error names the constraint" grep -q "audit_customer_id_fkey" "$WORK/last.out"
check "outside table untouched by replace" [ "$(pg_val pgfk_dst "SELECT count(*) FROM audit")" = 1 ]
pg_sql pgfk_dst "DROP TABLE audit" >/dev/null
expect_exit 0 "the same run resumed without the outside table" copy --mode replace
check "resumed replace exact" all_same
check "resumed replace made the keys again" [ "$(fks)" = "$want" ]

finish
