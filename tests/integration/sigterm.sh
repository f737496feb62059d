# SIGTERM (and SIGINT) during a copy: the run stops after its current
# chunks, exit 1, status "aborted" (summary, state store, barge status),
# no chunk left half-done; the same command then resumes to an exact copy.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 6000 --orders 12000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
for sig in TERM INT; do
	rm -f copy.db st.db
	CMD=("$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db --jobs 2 --chunk-rows 100 --no-progress)
	"${CMD[@]}" > sig.out 2> sig.err & pid=$!
	# wait (bounded) until some chunks are done, then signal
	tries=0
	until [ $tries -ge 3000 ] || [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status = 'done'" 2>/dev/null || echo 0)" -ge 10 ] ||
		! kill -0 $pid 2>/dev/null; do
		tries=$((tries + 1)); sleep 0.1
	done
	kill -$sig $pid
	wait $pid; rc=$?
	check "$sig: exit 1" [ $rc = 1 ]
	check "$sig: summary says aborted" grep -q '^status: aborted' sig.out
	check "$sig: and how to resume" grep -q 'run the same command again to resume' sig.out
	check "$sig: no barge error on stderr" [ ! -s sig.err ]
	check "$sig: run aborted in the store" [ "$(sqlite3 st.db 'SELECT status FROM runs')" = aborted ]
	check "$sig: no chunk left running" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status = 'running'")" = 0 ]
	check "$sig: stopped part-way" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status = 'pending'")" -gt 0 ]
	# every done chunk's rows are in the target, nothing more
	check "$sig: target holds exactly the done chunks' rows" [ "$(sqlite3 st.db "SELECT total(rows_written) FROM units WHERE status = 'done'" | cut -d. -f1)" = \
		"$(sqlite3 copy.db "SELECT (SELECT count(*) FROM customers)+(SELECT count(*) FROM orders)+(SELECT count(*) FROM order_items)+(SELECT count(*) FROM audit_log)")" ]
	expect_exit 1 "$sig: barge status exits 1 for an aborted run" "$BARGE" status --state st.db
	check "$sig: status says aborted" grep -q '^run 1: aborted' "$WORK/last.out"
	expect_exit 0 "$sig: the same command resumes" "${CMD[@]}"
	check "$sig: resumed, not restarted" grep -q '(run 1, resumed)' "$WORK/last.out"
	for t in customers orders order_items audit_log; do
		check "$sig: $t exact after the resume" same_table shop.db copy.db $t
	done
done
finish
