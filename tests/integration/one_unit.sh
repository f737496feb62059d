# One unit at a time: `run --table T --key K` migrates exactly that one row
# (an integer key, and a composite key), recorded in the state store like
# any unit; `run --table T --chunk N` re-runs chunk N after a run and logs
# it; an unknown chunk is exit 2. A one-row run in truncate mode touches
# only that row, never the rest of the target.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 500 --orders 1000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
cat > plan.yaml <<'PLAN'
source: sqlite:shop.db
target: sqlite:row.db
state: row-state.db
defaults: {chunk_rows: 100}
tables: [customers, orders, order_items]
PLAN
# a row as text, every value with its storage class
row() { sqlite3 "$1" "SELECT quote(id), quote(customer_id), quote(ordered_at), quote(status), quote(total), quote(note) FROM orders WHERE id = $2"; }
item() { sqlite3 "$1" "SELECT quote(order_id), quote(line), quote(sku), quote(qty), quote(price) FROM order_items WHERE order_id = $2 AND line = $3"; }
check "the source has order 42 and item (42,1)" [ -n "$(row shop.db 42)" ] && [ -n "$(item shop.db 42 1)" ]

expect_exit 0 "--table orders --key 42" "$BARGE" run plan.yaml --table orders --key 42 --no-progress
check "orders holds exactly one row" [ "$(sqlite3 row.db 'SELECT count(*) FROM orders')" = 1 ]
check "it is row 42, value for value" [ "$(row row.db 42)" = "$(row shop.db 42)" ]
check "the other tables got no row" [ "$(sqlite3 row.db 'SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM order_items)')" = 0 ]
check "recorded as a unit: done, 1 row, a digest" \
	[ "$(sqlite3 row-state.db "SELECT table_name, status, rows_read, rows_written, length(digest) FROM units")" = "orders|done|1|1|32" ]
check "logged like any unit" [ "$(sqlite3 row-state.db "SELECT count(*) FROM log l JOIN units u ON u.id = l.unit WHERE l.event = 'done' AND u.table_name = 'orders'")" = 1 ]
check "the log names the command" [ "$(sqlite3 row-state.db "SELECT count(*) FROM log WHERE event = 'start' AND message LIKE '%--key 42%'")" = 1 ]

expect_exit 0 "--table order_items --key 42,1 (composite)" "$BARGE" run plan.yaml --table order_items --key 42,1 --no-progress
check "order_items holds exactly one row" [ "$(sqlite3 row.db 'SELECT count(*) FROM order_items')" = 1 ]
check "it is item (42,1), value for value" [ "$(item row.db 42 1)" = "$(item shop.db 42 1)" ]
check "orders still holds just row 42" [ "$(sqlite3 row.db 'SELECT group_concat(id) FROM orders')" = 42 ]
check "the composite unit is recorded and logged" \
	[ "$(sqlite3 row-state.db "SELECT u.status, u.rows_written, count(l.id) FROM units u JOIN log l ON l.unit = u.id AND l.event = 'done' WHERE u.table_name = 'order_items'")" = "done|1|1" ]
expect_exit 2 "--key with too few values for a composite key" "$BARGE" run plan.yaml --table order_items --key 42 --no-progress
check "the key's width is named" grep -q '2 comma-separated' "$WORK/last.err"
expect_exit 2 "--key on an unknown table" "$BARGE" run plan.yaml --table nosuch --key 1 --no-progress
check "unknown table named" grep -q nosuch "$WORK/last.err"

# --chunk N re-runs one chunk of a finished run, and logs it
sed 's/row\.db/chunk.db/; s/row-state/chunk-state/' plan.yaml > chunk.yaml
expect_exit 0 "a whole run" "$BARGE" run chunk.yaml --no-progress
check "orders has 10 chunks" [ "$(sqlite3 chunk-state.db "SELECT count(*) FROM units WHERE table_name = 'orders'")" = 10 ]
lo=$(sqlite3 chunk-state.db "SELECT json_extract(lo, '\$[0]') FROM units WHERE table_name = 'orders' AND seq = 3")
hi=$(sqlite3 chunk-state.db "SELECT json_extract(hi, '\$[0]') FROM units WHERE table_name = 'orders' AND seq = 3")
sqlite3 chunk.db "DELETE FROM orders WHERE id >= $lo AND id < $hi"
check "chunk 3's rows are gone from the target" [ "$(sqlite3 chunk.db 'SELECT count(*) FROM orders')" -lt 1000 ]
dones=$(sqlite3 chunk-state.db "SELECT count(*) FROM log WHERE event = 'done'")
expect_exit 0 "--table orders --chunk 3" "$BARGE" run chunk.yaml --table orders --chunk 3 --no-progress
check "chunk 3 restored: orders exact" same_table shop.db chunk.db orders
check "the re-run is logged" [ "$(sqlite3 chunk-state.db "SELECT count(*) FROM log WHERE event = 'done'")" = $((dones + 1)) ]
check "the unit was taken twice" [ "$(sqlite3 chunk-state.db "SELECT attempts FROM units WHERE table_name = 'orders' AND seq = 3")" = 2 ]
before=$(db_digest chunk.db)
expect_exit 2 "an unknown chunk" "$BARGE" run chunk.yaml --table orders --chunk 999 --no-progress
check "the unknown chunk is named" grep -q 'no chunk 999' "$WORK/last.err"
check "target unchanged" [ "$before" = "$(db_digest chunk.db)" ]

# a one-row run in truncate mode re-migrates that row and nothing else
sed 's/row\.db/trunc.db/; s/row-state/trunc-state/; s/defaults: {/defaults: {mode: truncate, /' plan.yaml > trunc.yaml
expect_exit 0 "truncate: a whole run" "$BARGE" run trunc.yaml --no-progress
sqlite3 trunc.db "UPDATE orders SET note = 'changed' WHERE id = 42"
expect_exit 0 "truncate: --table orders --key 42" "$BARGE" run trunc.yaml --table orders --key 42 --no-progress
for t in customers orders order_items; do
	check "truncate: $t intact after a one-row run" same_table shop.db trunc.db $t
done
finish
