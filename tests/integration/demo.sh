# ./scripts/demo end to end, in a copy of the source tree (it makes a
# release build in build/ and writes demo-out/, which must not touch the
# tree under test): exit 0, the summary, status done, equal row counts.
. "$(dirname "$0")/lib.bash"
: "${BARGE_SRC:?BARGE_SRC must point at the source tree}"

mkdir tree
(cd "$BARGE_SRC" && tar --exclude='./build*' --exclude=./demo-out --exclude=./.git -cf - .) | tar -xf - -C tree
check "the copy has the demo" [ -x tree/scripts/demo ]
# run from another directory: the demo works from anywhere; 10 minutes at most
timeout 600 tree/scripts/demo > demo.out 2> demo.err
rc=$?
check "demo exits 0 (exit $rc)" [ $rc = 0 ] || tail -20 demo.err >&2
check "demo printed the summary" grep -Eq '^total +[0-9]+/[0-9]+ ' demo.out
check "the copy is done" grep -q '^status: done' demo.out
check "barge status says done" grep -q '^run 1: done' demo.out
for t in customers orders order_items audit_log; do
	read -r _ src dst <<< "$(grep -E "^  $t +[0-9]+ +[0-9]+$" demo.out)"
	check "demo: $t source and copy counts equal (${src:-?} vs ${dst:-?})" [ -n "$src" ] && [ "$src" = "$dst" ] && [ "$src" -gt 0 ]
done
for t in customers orders order_items audit_log; do
	check "demo: $t copied exactly" same_table tree/demo-out/shop.db tree/demo-out/shop-copy.db $t
done
check "demo report is JSON, done" python3 -c "import json; assert json.load(open('tree/demo-out/report.json'))['status'] == 'done'"
finish
