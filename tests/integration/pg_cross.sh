# SQLite <-> PostgreSQL: the demo shop round-trips SQLite -> PG -> SQLite
# exactly; re-running each mode into PG leaves it unchanged; a value PG
# cannot hold is an error naming table, key and column, never a change.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

"$MKSHOP" shop.db --customers 3000 --orders 9000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
pg_fresh pgx_shop
expect_exit 0 "SQLite -> PG" "$BARGE" copy sqlite:shop.db "$(pg_url pgx_shop)" --state st1.db \
	--jobs 2 --chunk-rows 1000 --batch-rows 300 --no-progress
check "rows in PG" [ "$(pg_val pgx_shop "SELECT count(*) FROM order_items")" = "$(sqlite3 shop.db "SELECT count(*) FROM order_items")" ]
check "SQLite INTEGER became bigint" [ "$(pg_val pgx_shop "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'")" = bigint ]
check "NUMERIC(12,2) kept" [ "$(pg_val pgx_shop "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'total'")" = "numeric(12,2)" ]
expect_exit 0 "PG -> SQLite" "$BARGE" copy "$(pg_url pgx_shop)" sqlite:back.db --state st2.db \
	--jobs 2 --chunk-rows 1000 --no-progress
for t in customers orders order_items audit_log; do
	check "table $t round-trips exactly" same_table shop.db back.db "$t"
done

dump_all() {
	for t in customers orders order_items audit_log; do
		pg_dump_table pgx_shop "$t" "$(pg_val pgx_shop "SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0")"
	done | md5sum
}
before=$(dump_all)
for mode in upsert replace truncate; do
	# a table with no key has nothing to upsert on (an error, tested below)
	tables=customers,orders,order_items,audit_log
	[ $mode = upsert ] && tables=customers,orders,order_items
	expect_exit 0 "$mode: re-run into PG" "$BARGE" copy sqlite:shop.db "$(pg_url pgx_shop)" \
		--state st1.db --mode $mode --chunk-rows 1000 --restart --tables $tables --no-progress
	check "$mode: PG unchanged" [ "$before" = "$(dump_all)" ]
done

expect_exit 1 "upsert into a keyless table is refused" "$BARGE" copy sqlite:shop.db \
	"$(pg_url pgx_shop)" --state st1.db --mode upsert --restart --tables audit_log --retries 0 --no-progress
check "upsert refusal says why" grep -q "no primary key to upsert on" "$WORK/last.out"
check "keyless table unchanged" [ "$before" = "$(dump_all)" ]

# Values PostgreSQL cannot hold.
sqlite3 bad.db "CREATE TABLE nul (id INTEGER PRIMARY KEY, s TEXT);
	INSERT INTO nul VALUES (1, 'fine'), (2, CAST(X'610062' AS TEXT));
	CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER);
	INSERT INTO big VALUES (1, 5), (7, 1099511627776);
	CREATE TABLE anyc (id INTEGER PRIMARY KEY, a);
	INSERT INTO anyc VALUES (1, 'text'), (3, 42);"
pg_fresh pgx_bad
pg_sql pgx_bad "CREATE TABLE big (id bigint PRIMARY KEY, v integer)" >/dev/null
"$BARGE" copy sqlite:bad.db "$(pg_url pgx_bad)" --state st3.db --retries 0 --no-progress >out.txt 2>&1
all="$(cat out.txt; sqlite3 st3.db "SELECT last_error FROM units" 2>/dev/null)"
echo "$all" >all.txt
check "the run fails" [ "$(sqlite3 st3.db "SELECT count(*) FROM units WHERE status = 'failed'")" = 3 ]
check "NUL byte named (table, key, column)" grep -q "nul id=2: column s.*NUL" all.txt
check "out-of-range integer named" grep -q "big id=7: column v.*range" all.txt
check "non-text value in an untyped column named" grep -q "anyc id=3: column a" all.txt
check "nothing of the failed chunks written" [ "$(pg_val pgx_bad "SELECT (SELECT count(*) FROM nul) + (SELECT count(*) FROM big) + (SELECT count(*) FROM anyc)")" = 0 ]
finish
