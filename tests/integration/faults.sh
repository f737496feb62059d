# Transient faults are retried with backoff; a chunk that keeps failing is
# marked failed and the others go on; K failures in a row trip the circuit
# breaker; a resume without the fault then finishes exactly.
. "$(dirname "$0")/lib.bash"
export BARGE_RETRY_BASE=0.01

"$MKSHOP" shop.db --customers 3000 --orders 100 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }

# two transient failures: retried, the copy ends exact
BARGE_FAULT=write_batch:retry:2:2 expect_exit 0 "transient faults retried" \
	"$BARGE" copy sqlite:shop.db sqlite:a.db --state a.st --tables customers --chunk-rows 500 --no-progress
check "customers exact after retries" same_table shop.db a.db customers
check "retries logged" [ "$(sqlite3 a.st "SELECT count(*) FROM log WHERE event='retry'")" = 2 ]

# one chunk fails for good (a data error is not retried); the others go on
BARGE_FAULT=write_batch:data:3:1 expect_exit 1 "a failing chunk fails the run" \
	"$BARGE" copy sqlite:shop.db sqlite:b.db --state b.st --tables customers --chunk-rows 500 --batch-rows 1000 --no-progress
check "one chunk failed" [ "$(sqlite3 b.st "SELECT count(*) FROM units WHERE status='failed'")" = 1 ]
check "the others are done" [ "$(sqlite3 b.st "SELECT count(*) FROM units WHERE status='done'")" = 5 ]
check "the error is kept" [ -n "$(sqlite3 b.st "SELECT last_error FROM units WHERE status='failed'")" ]
expect_exit 0 "resume retries the failed chunk" "$BARGE" copy sqlite:shop.db sqlite:b.db --state b.st --tables customers --chunk-rows 500 --no-progress
check "customers exact after resume" same_table shop.db b.db customers

# a write error while the reader is blocked on a full queue must not hang
# (the reader is stopped wherever it waits)
BARGE_FAULT=write_batch:data:1:1 expect_exit 1 "write error with a reader ahead" \
	timeout 120 "$BARGE" copy sqlite:shop.db sqlite:e.db --state e.st --tables customers \
	--chunk-rows 3000 --batch-rows 10 --queue-depth 2 --no-progress
check "the failed chunk is recorded" [ "$(sqlite3 e.st "SELECT count(*) FROM units WHERE status='failed'")" = 1 ]

# every chunk fails: the breaker stops the run after 3 in a row
BARGE_FAULT=write_batch:error:1:100000 expect_exit 1 "circuit breaker" \
	"$BARGE" copy sqlite:shop.db sqlite:c.db --state c.st --tables customers --chunk-rows 100 --max-failures 3 --no-progress
check "breaker named" grep -q 'circuit breaker' "$WORK/last.out"
check "stopped after 3 failures" [ "$(sqlite3 c.st "SELECT count(*) FROM units WHERE status='failed'")" = 3 ]
check "most chunks never started" [ "$(sqlite3 c.st "SELECT count(*) FROM units WHERE status='pending'")" -gt 20 ]
expect_exit 0 "resume after the breaker" "$BARGE" copy sqlite:shop.db sqlite:c.db --state c.st --tables customers --chunk-rows 100 --no-progress
check "customers exact after the breaker" same_table shop.db c.db customers

# retries exhausted: failed, with the reason
BARGE_FAULT=commit:retry:1:100000 expect_exit 1 "retries exhausted" \
	"$BARGE" copy sqlite:shop.db sqlite:d.db --state d.st --tables customers --chunk-rows 5000 --retries 2 --no-progress
check "3 attempts logged" [ "$(sqlite3 d.st "SELECT count(*) FROM log WHERE event='retry'")" = 2 ]
check "nothing committed" [ "$(sqlite3 d.db 'SELECT count(*) FROM customers')" = 0 ]
# the finishing step (indexes, keys) loses its connection twice: it is tried
# again on new connections and the run ends done; four times: it fails
BARGE_FAULT=finish_tables:retry:1:2 expect_exit 0 "finishing retried" \
	"$BARGE" copy sqlite:shop.db sqlite:f.db --state f.st --tables customers --chunk-rows 500 --no-progress
check "finishing retries logged" [ "$(sqlite3 f.st "SELECT count(*) FROM log WHERE event='retry' AND message LIKE '%finish_tables%'")" = 2 ]
check "finishing done" [ "$(sqlite3 f.st "SELECT value FROM flags WHERE key='finish:customers'")" = done ]
check "customers exact after finishing retries" same_table shop.db f.db customers
BARGE_FAULT=finish_tables:retry:1:100 expect_exit 1 "finishing retries exhausted" \
	"$BARGE" copy sqlite:shop.db sqlite:g.db --state g.st --tables customers --chunk-rows 500 --retries 3 --no-progress
check "finishing tried 4 times (--retries 3)" [ "$(sqlite3 g.st "SELECT count(*) FROM log WHERE event='retry' AND message LIKE '%finish_tables%'")" = 3 ]
finish
