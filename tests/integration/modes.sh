# Every write mode, re-run over a finished target, leaves it unchanged:
# --restart re-runs every chunk (insert refuses, as it must, and changes
# nothing), and `run --chunk N` re-runs one chunk in every mode.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 2000 --orders 4000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
for mode in insert upsert replace truncate; do
	rm -f copy.db st.db
	expect_exit 0 "$mode: first copy" "$BARGE" copy sqlite:shop.db sqlite:copy.db \
		--state st.db --mode $mode --chunk-rows 700 --no-progress
	before=$(db_digest copy.db)
	if [ $mode = insert ]; then
		expect_exit 1 "insert: --restart over a full target fails on conflict" \
			"$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db --mode insert \
			--chunk-rows 700 --restart --no-progress
		check "insert: the conflict is named" grep -qi 'conflict\|unique\|exists' "$WORK/last.out"
	else
		expect_exit 0 "$mode: --restart" "$BARGE" copy sqlite:shop.db sqlite:copy.db \
			--state st.db --mode $mode --chunk-rows 700 --restart --no-progress
	fi
	check "$mode: unchanged after --restart" [ "$before" = "$(db_digest copy.db)" ]
	cat > plan.yaml <<PLAN
source: sqlite:shop.db
target: sqlite:copy2.db
state: st2.db
defaults: {mode: $mode, chunk_rows: 700}
tables:
  - name: orders
  - name: audit_log
PLAN
	rm -f st2.db copy2.db
	expect_exit 0 "$mode: plan run" "$BARGE" run plan.yaml --no-progress
	before=$(db_digest copy2.db)
	for n in 0 2; do
		expect_exit 0 "$mode: re-run chunk $n" "$BARGE" run plan.yaml --table orders --chunk $n --no-progress
		check "$mode: unchanged after chunk $n" [ "$before" = "$(db_digest copy2.db)" ]
	done
	expect_exit 0 "$mode: re-run keyless chunk" "$BARGE" run plan.yaml --table audit_log --chunk 0 --no-progress
	check "$mode: keyless unchanged" [ "$before" = "$(db_digest copy2.db)" ]
	check "$mode: chunk re-runs are logged" [ "$(sqlite3 st2.db "SELECT count(*) FROM log WHERE event='done'")" -gt 3 ]
done
finish
