# The demo database copied SQLite -> SQLite with 2 workers is exact, every
# table (keyed, composite-keyed and keyless with duplicates), and the
# summary, report and status agree with it.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 3000 --orders 9000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
expect_exit 0 "copy" "$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db \
	--jobs 2 --chunk-rows 1000 --batch-rows 300 --report report.json --no-progress
for t in $(sqlite3 shop.db "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"); do
	check "table $t copied exactly" same_table shop.db copy.db "$t"
done
check "summary has a total line" grep -q '^total' "$WORK/last.out"
check "report says done" grep -q '"status":"done"' report.json
rows=$(sqlite3 shop.db "SELECT (SELECT count(*) FROM customers)+(SELECT count(*) FROM orders)+(SELECT count(*) FROM order_items)+(SELECT count(*) FROM audit_log)")
written=$(grep -o '"rows_written":[0-9]*' report.json | cut -d: -f2 | awk '{s+=$1} END {print s}')
check "report counts every row ($written vs $rows)" [ "$written" = "$rows" ]
check "declared types kept" [ "$(sqlite3 shop.db "SELECT group_concat(type) FROM pragma_table_info('orders')")" = "$(sqlite3 copy.db "SELECT group_concat(type) FROM pragma_table_info('orders')")" ]
check "every unit has a digest" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE digest IS NULL OR status != 'done'")" = 0 ]
expect_exit 0 "status" "$BARGE" status --state st.db
check "status shows done" grep -q 'done' "$WORK/last.out"
expect_exit 0 "status json" "$BARGE" status --state st.db --format json
check "status json is JSON" python3 -c "import json,sys; json.load(open('$WORK/last.out'))"
# the same command again: nothing left, target unchanged
before=$(db_digest copy.db)
expect_exit 0 "re-run of a finished copy" "$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db --no-progress
check "already done" grep -q 'already done' "$WORK/last.out"
check "target unchanged" [ "$before" = "$(db_digest copy.db)" ]
finish
