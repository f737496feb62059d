# barge status from another process while a copy runs: the JSON shows some
# chunks done and some not, its figures are consistent and grow; after the
# run it says done. A run killed with -9 shows as "interrupted", with the
# advice to resume. No timing assertions: bounded polling only.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 6000 --orders 12000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
total=$(sqlite3 shop.db "SELECT (SELECT count(*) FROM customers)+(SELECT count(*) FROM orders)+(SELECT count(*) FROM order_items)+(SELECT count(*) FROM audit_log)")
# run in the background as a simple command, so that $! is barge itself
COPY=("$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db --jobs 1 --chunk-rows 100 --no-progress --quiet)

# figures of one status JSON: "done total rows_written rows_read chunks_ok status"
figures() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ts = d["tables"]
done = sum(t["chunks_done"] for t in ts)
chunks = sum(t["chunks"] for t in ts)
ok = all(0 <= t["chunks_done"] + t["chunks_running"] + t["chunks_failed"] <= t["chunks"]
         and t["rows_written"] <= t["rows_read"] for t in ts)
print(done, chunks, sum(t["rows_written"] for t in ts), sum(t["rows_read"] for t in ts),
      int(ok), d["status"])
PY
}

"${COPY[@]}" & pid=$!
seen=0 tries=0 last_written=-1 grew=0 consistent=1
# up to ~5 minutes for a status that shows a run half-way
while [ $tries -lt 3000 ] && kill -0 $pid 2>/dev/null; do
	tries=$((tries + 1))
	if "$BARGE" status --state st.db --format json > s.json 2>/dev/null && f=$(figures s.json 2>/dev/null); then
		set -- $f
		[ "$5" = 1 ] && [ "$1" -le "$2" ] || consistent=0
		[ "$3" -ge "$last_written" ] || consistent=0
		[ $last_written -ge 0 ] && [ "$3" -gt "$last_written" ] && grew=1
		last_written=$3
		if [ "$6" = running ] && [ "$1" -gt 0 ] && [ "$1" -lt "$2" ]; then
			seen=$((seen + 1))
			cp s.json mid.json
			[ $seen -ge 3 ] && [ $grew = 1 ] && break
		fi
	fi
	sleep 0.1
done
check "status showed a run half-way (some chunks done, some not)" [ $seen -ge 1 ]
check "status figures consistent while running (done <= chunks, written <= read, never shrinking)" [ $consistent = 1 ]
check "rows_written grew between polls" [ $grew = 1 ]
check "mid-run JSON names the running process" python3 -c "
import json; d = json.load(open('mid.json')); assert d['pid'] == $pid and d['status'] == 'running', d"
check "mid-run text status works too" "$BARGE" status --state st.db >/dev/null
wait $pid
check "the copy finished" [ $? = 0 ]
expect_exit 0 "status after the run" "$BARGE" status --state st.db --format json
f=$(figures "$WORK/last.out"); set -- $f
check "after: status done, every chunk done, every row written ($f)" [ "$6 $1 $3" = "done $2 $total" ]
expect_exit 0 "text status after the run" "$BARGE" status --state st.db
check "text says done" grep -q '^run 1: done' "$WORK/last.out"

# kill -9: interrupted, resume advised
rm -f copy.db st.db
"${COPY[@]}" & pid=$!
tries=0
until [ $tries -ge 3000 ] || [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE status = 'done'" 2>/dev/null || echo 0)" -ge 5 ] || ! kill -0 $pid 2>/dev/null; do
	tries=$((tries + 1)); sleep 0.1
done
kill -9 $pid; wait $pid 2>/dev/null
expect_exit 1 "status of a killed run (not done: exit 1, like the run)" "$BARGE" status --state st.db
check "killed run: interrupted" grep -q '^run 1: interrupted' "$WORK/last.out"
check "killed run: resume advised" grep -q 'run the same command again to resume' "$WORK/last.out"
"$BARGE" status --state st.db --format json > k.json
check "killed run: JSON says interrupted" python3 -c "import json; assert json.load(open('k.json'))['status'] == 'interrupted'"
set -- $(figures k.json)
check "killed run: some chunks done, not all ($1 of $2)" [ "$1" -gt 0 ] && [ "$1" -lt "$2" ]
expect_exit 0 "the same command resumes" "${COPY[@]}"
for t in customers orders order_items audit_log; do
	check "$t exact after the resume" same_table shop.db copy.db $t
done
finish
