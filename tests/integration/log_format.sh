# stderr conventions of copy/run: --log-format json (JSON lines only, one
# per chunk with run, table, chunk, rows, digest and outcome, matching the
# state store; one at the run's end; errors as JSON too), --verbose (a
# line per chunk), --quiet (nothing but errors), and on a terminal with
# NO_COLOR no colour and, with json, no progress drawing.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 1500 --orders 2000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }

# Load stderr's lines into a SQLite table l(n, j) to check them as JSON.
load_lines() { # load_lines FILE DB
	rm -f "$2"
	{ echo "CREATE TABLE l(n INTEGER PRIMARY KEY, j TEXT);"
	  while IFS= read -r line; do
		printf "INSERT INTO l(j) VALUES ('%s');\n" "${line//\'/\'\'}"
	  done <"$1"; } | sqlite3 "$2"
}
q() { sqlite3 "$@"; }

expect_exit 0 "copy --log-format json" "$BARGE" copy sqlite:shop.db sqlite:json.db \
	--state json.st --chunk-rows 400 --jobs 2 --log-format json
cp "$WORK/last.err" json.err
load_lines json.err lines.db
check "stderr has lines" [ "$(q lines.db 'SELECT count(*) FROM l')" -gt 5 ]
check "every stderr line is a JSON object" [ "$(q lines.db "SELECT count(*) FROM l WHERE NOT json_valid(j) OR json_type(j) <> 'object'")" = 0 ]
check "the summary still on stdout" grep -q '^total ' "$WORK/last.out"
q lines.db "CREATE TABLE ev AS SELECT j->>'run' run, j->>'table' tbl, j->>'chunk' chunk,
		j->>'outcome' outcome, j->>'rows' rows, j->>'digest' digest, j->>'ts' ts
	FROM l WHERE j->>'event' = 'chunk';"
units=$(q json.st "SELECT count(*) FROM units")
check "one event per chunk ($units)" [ "$(q lines.db 'SELECT count(*) FROM ev')" = "$units" ]
check "each event is a chunk of the state store, same run, rows and digest" \
	[ "$(q lines.db "ATTACH 'json.st' AS st; SELECT count(*) FROM ev JOIN st.units u ON u.run = ev.run
		AND u.table_name = ev.tbl AND u.seq = ev.chunk AND u.rows_written = ev.rows
		AND u.digest = ev.digest WHERE ev.outcome = 'done'")" = "$units" ]
for t in customers orders order_items audit_log; do
	check "rows of $t add up" [ "$(q lines.db "SELECT sum(rows) FROM ev WHERE tbl = '$t'")" = "$(q shop.db "SELECT count(*) FROM $t")" ]
done
check "timestamps are UTC ISO 8601" [ "$(q lines.db "SELECT count(*) FROM l WHERE j->>'ts' NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'")" = 0 ]
check "the last line is the run's end" [ "$(q lines.db "SELECT j->>'event' || ' ' || (j->>'status') || ' ' || (j->>'run') FROM l ORDER BY n DESC LIMIT 1")" = "run done $(q json.st 'SELECT max(id) FROM runs')" ]

# a chunk that fails (a key already in the target, mode insert): outcome
# failed with the message, exit 1
sqlite3 clash.db "$(sqlite3 shop.db '.schema customers')"
sqlite3 shop.db ".dump customers" | grep '^INSERT' | head -1 | sqlite3 clash.db
expect_exit 1 "a failing chunk" "$BARGE" copy sqlite:shop.db sqlite:clash.db --state clash.st \
	--tables customers --chunk-rows 400 --retries 0 --log-format json
load_lines "$WORK/last.err" fail.db
check "failing run: all lines JSON" [ "$(q fail.db "SELECT count(*) FROM l WHERE NOT json_valid(j)")" = 0 ]
check "a failed chunk event with its message" [ "$(q fail.db "SELECT count(*) FROM l WHERE j->>'outcome' = 'failed' AND j->>'chunk' = 0 AND length(j->>'message') > 0 AND j->>'digest' IS NULL")" = 1 ]
check "the other chunks done" [ "$(q fail.db "SELECT count(*) FROM l WHERE j->>'outcome' = 'done'")" = "$(q clash.st "SELECT count(*) FROM units WHERE status = 'done'")" ]
check "run's end says failed" [ "$(q fail.db "SELECT j->>'status' FROM l WHERE j->>'event' = 'run'")" = failed ]

# an error before any chunk: one JSON line, exit 2
expect_exit 2 "a missing source" "$BARGE" copy sqlite:nosuch.db sqlite:x.db --state x.st --log-format json
check "the error as one JSON line" [ "$(wc -l < "$WORK/last.err")" = 1 ]
check "event error with the message" grep -q '^{"ts":"[^"]*","event":"error","message":".*nosuch.db' "$WORK/last.err"
expect_exit 2 "--log-format xml" "$BARGE" copy sqlite:shop.db sqlite:x.db --log-format xml
expect_exit 2 "--progress with json" "$BARGE" copy sqlite:shop.db sqlite:x.db --progress --log-format json

# --verbose: a line per chunk, human
expect_exit 0 "copy --verbose" "$BARGE" copy sqlite:shop.db sqlite:verbose.db --state verbose.st --chunk-rows 400 --verbose
units=$(q verbose.st "SELECT count(*) FROM units")
check "--verbose: a line per chunk ($units)" [ "$(grep -cE '^barge: [a-z_]+ chunk [0-9]+: done, [0-9]+ rows, [0-9]+ rejected, digest [0-9a-f]{32}, [0-9.]+ s$' "$WORK/last.err")" = "$units" ]
d=$(q verbose.st "SELECT digest FROM units WHERE table_name = 'orders' AND seq = 1")
check "--verbose: the chunk's digest" grep -q "^barge: orders chunk 1: done, .* digest $d," "$WORK/last.err"

# --quiet: nothing on stdout or stderr when all is well
expect_exit 0 "copy --quiet" "$BARGE" copy sqlite:shop.db sqlite:quiet.db --state quiet.st --quiet
check "--quiet: stdout empty" [ ! -s "$WORK/last.out" ]
check "--quiet: stderr empty" [ ! -s "$WORK/last.err" ]
expect_exit 2 "--quiet with --verbose" "$BARGE" copy sqlite:shop.db sqlite:x.db --quiet --verbose

# on a terminal (a pty from script(1)): NO_COLOR, and no colour ever;
# with --log-format json no progress drawing either, JSON lines only
script -qec "NO_COLOR=1 '$BARGE' copy sqlite:shop.db sqlite:tty.db --state tty.st --chunk-rows 400" /dev/null > tty.out 2>&1 < /dev/null
check "terminal: the copy ran" [ "$(q tty.st 'SELECT status FROM runs')" = done ]
check "terminal with NO_COLOR: no colour (SGR) sequences" bash -c "! grep -aqE $'\e\\\\[[0-9;]*m' tty.out"
script -qec "'$BARGE' copy sqlite:shop.db sqlite:ttyj.db --state ttyj.st --chunk-rows 400 --log-format json 2>&1 >/dev/null" /dev/null > ttyj.out 2>&1 < /dev/null
tr -d '\r' < ttyj.out > ttyj.err
load_lines ttyj.err ttyj.db
check "terminal + json: lines" [ "$(q ttyj.db 'SELECT count(*) FROM l')" -gt 5 ]
check "terminal + json: only JSON lines, no progress drawing" [ "$(q ttyj.db "SELECT count(*) FROM l WHERE NOT json_valid(j)")" = 0 ]
check "terminal + json: no escapes" bash -c "! grep -aq $'\e' ttyj.err"
finish
