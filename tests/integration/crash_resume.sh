# kill -9 the copy at random moments, many times, resuming each time: the
# target then equals the source exactly, no duplicate and no lost row, in
# every write mode that a crash can interrupt.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 20000 --orders 40000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
RANDOM=42
for mode in insert upsert replace truncate; do
	rm -f copy.db st.db
	kills=0
	for round in $(seq 1 15); do
		"$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db --mode $mode \
			--jobs 2 --chunk-rows 500 --batch-rows 200 --no-progress --quiet \
			>/dev/null 2>"$WORK/crash.err" &
		pid=$!
		# somewhere between 20 ms and 0.7 s into the run
		sleep "0.$(printf '%03d' $((RANDOM % 680 + 20)))"
		if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
		wait $pid 2>/dev/null
	done
	expect_exit 0 "$mode: final resume" "$BARGE" copy sqlite:shop.db sqlite:copy.db \
		--state st.db --mode $mode --jobs 2 --chunk-rows 500 --no-progress
	check "$mode: killed at least 3 times ($kills)" [ "$kills" -ge 3 ]
	for t in customers orders order_items audit_log; do
		check "$mode: $t exact after $kills kills" same_table shop.db copy.db "$t"
	done
	check "$mode: one run resumed, not restarted" [ "$(sqlite3 st.db 'SELECT count(*) FROM runs')" = 1 ]
done
finish
