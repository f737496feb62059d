# run --dry-run reads and checks everything and writes nothing: no target,
# no state file; it says what would happen (tables, rows, "would be
# created"); --sample N reads N rows per table; a bad value found on the
# way is reported with its table and column, exit 1, still nothing written.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 700 --orders 1200 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
src_digest=$(md5sum < shop.db)
cat > plan.yaml <<'PLAN'
source: sqlite:shop.db
target: sqlite:out.db
state: st.db
defaults: {chunk_rows: 250}
tables: [customers, orders, order_items, audit_log]
PLAN
nothing_written() {
	[ ! -e out.db ] && [ ! -e st.db ] && [ ! -e barge-state.db ] && [ "$(md5sum < shop.db)" = "$src_digest" ]
}
# the summary line of a table: chunks, read, written
row_of() { awk -v t="$1" '$1 == t { print $2, $3, $4 }' "$WORK/last.out"; }

expect_exit 0 "dry run" "$BARGE" run plan.yaml --dry-run --no-progress
check "dry run: nothing written" nothing_written
for t in customers orders order_items audit_log; do
	n=$(sqlite3 shop.db "SELECT count(*) FROM $t")
	c=$(( (n + 249) / 250 ))
	got=$(row_of $t)
	check "dry run: $t: $c chunks, every row read, none written ($got)" [ "$got" = "$c/$c $n 0" ]
	check "dry run: $t would be created" grep -q "$t would be created" "$WORK/last.out"
done
check "dry run: says nothing was written" grep -q '^dry run: nothing was written' "$WORK/last.out"
check "dry run: status dry-run" grep -q '^status: dry-run' "$WORK/last.out"

# over an existing target: nothing would be created, and it is not touched
sqlite3 out.db "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, email TEXT, country TEXT, signup DATETIME, balance NUMERIC(14,2), active TEXT, fax TEXT);"
out_digest=$(md5sum < out.db)
expect_exit 0 "dry run over a target" "$BARGE" run plan.yaml --dry-run --no-progress
check "existing table: not 'would be created'" bash -c "! grep -q 'customers would be created' '$WORK/last.out'"
check "missing table: would be created" grep -q 'orders would be created' "$WORK/last.out"
check "target untouched" [ "$(md5sum < out.db)" = "$out_digest" ]
check "no state file" [ ! -e st.db ]
rm -f out.db

expect_exit 0 "--sample 10" "$BARGE" run plan.yaml --dry-run --sample 10 --no-progress
for t in customers orders order_items audit_log; do
	got=$(row_of $t)
	check "--sample 10: $t read 10 rows ($got)" [ "${got#* }" = "10 0" ]
done
check "--sample: nothing written" nothing_written

# a bad value: named, exit 1, nothing written
cp shop.db bad.db
sqlite3 bad.db "UPDATE orders SET customer_id = 'abc' WHERE id = 17"
bad_digest=$(md5sum < bad.db)
sed 's/shop.db/bad.db/' plan.yaml > badplan.yaml
expect_exit 1 "dry run finds a bad value" "$BARGE" run badplan.yaml --dry-run --no-progress
check "the bad value is named (table, key, column, value)" grep -q "orders id=17: column customer_id .*'abc'" "$WORK/last.out"
check "other tables read in full" [ "$(row_of customers)" = "3/3 700 0" ]
check "bad value: nothing written" [ ! -e out.db ] && [ ! -e st.db ]
check "bad value: source untouched" [ "$(md5sum < bad.db)" = "$bad_digest" ]
expect_exit 1 "copy --dry-run finds it too" "$BARGE" copy sqlite:bad.db sqlite:out.db --state st.db --dry-run --no-progress
check "copy --dry-run: named" grep -q "orders id=17: column customer_id" "$WORK/last.out"
check "copy --dry-run: nothing written" [ ! -e out.db ] && [ ! -e st.db ]
finish
