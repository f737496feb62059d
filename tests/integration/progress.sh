# Progress lines: on a terminal (a pty from script(1)) a live line per table
# with rows, rows/s and ETA, redrawn in place; without a terminal nothing on
# stderr unless --progress, which forces the lines; --no-progress silences
# them on a terminal. The summary table goes to stdout either way.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 6000 --orders 12000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
TABLES="customers orders order_items audit_log"
# a progress line: "TABLE   done / total rows   R rows/s  ETA h:mm:ss|--:--"
pline() { grep -aEq "(^|\[2K)$1 +[0-9]+ / [0-9]+ +rows +[0-9]+ rows/s +ETA ([0-9]+:[0-9]{2}:[0-9]{2}|--:--)" "$2"; }

# on a terminal: stdout and stderr both go to the pty
cmd="'$BARGE' copy sqlite:shop.db sqlite:tty.db --state tty.st --chunk-rows 50"
script -qec "$cmd" /dev/null > tty.out 2>&1 < /dev/null
check "copy on a terminal succeeded" [ "$(sqlite3 tty.st 'SELECT status FROM runs')" = done ]
for t in $TABLES; do
	check "terminal: a progress line for $t" pline $t tty.out
	n=$(sqlite3 shop.db "SELECT count(*) FROM $t")
	check "terminal: $t ends at $n / $n" grep -aEq "$t +$n / $n +rows .*ETA 0:00:00" tty.out
done
check "terminal: lines redrawn in place (cursor up, erase line)" grep -aq $'\e\\[4A\e\\[2K' tty.out
check "terminal: the summary too" grep -aq '^total ' tty.out

# not a terminal: no progress on stderr, summary on stdout
expect_exit 0 "copy, no terminal" "$BARGE" copy sqlite:shop.db sqlite:pipe.db --state pipe.st --chunk-rows 200
check "no terminal: stderr empty" [ ! -s "$WORK/last.err" ]
check "no terminal: summary on stdout" grep -q '^total ' "$WORK/last.out"
check "no terminal: no progress line on stdout" bash -c "! grep -q 'rows/s  ETA' '$WORK/last.out'"

# --progress forces the lines, on stderr, without terminal escapes
expect_exit 0 "copy --progress, no terminal" "$BARGE" copy sqlite:shop.db sqlite:forced.db --state forced.st --chunk-rows 200 --progress
for t in $TABLES; do
	check "--progress: a line for $t on stderr" pline $t "$WORK/last.err"
done
check "--progress: no escapes when not a terminal" bash -c "! grep -q $'\e' '$WORK/last.err'"
check "--progress: nothing of it on stdout" bash -c "! grep -q 'rows/s  ETA' '$WORK/last.out'"

# --no-progress on a terminal: no progress line, the summary still
cmd="'$BARGE' copy sqlite:shop.db sqlite:quiet.db --state quiet.st --chunk-rows 200 --no-progress"
script -qec "$cmd" /dev/null > quiet.out 2>&1 < /dev/null
check "--no-progress on a terminal: no progress line" bash -c "! grep -aq 'rows/s  ETA' quiet.out"
check "--no-progress on a terminal: the summary" grep -aq '^total ' quiet.out
for t in $TABLES; do
	check "$t copied exactly under a pty" same_table shop.db tty.db $t
done
finish
