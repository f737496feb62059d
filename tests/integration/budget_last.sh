# The error budget when it is exceeded on a table's last chunk: the run
# still fails (exit 1) and says which table, as it does when chunks remain;
# the rejects are kept; the same command fails again, and a raised budget
# lets the run finish.
. "$(dirname "$0")/lib.bash"

q() { sqlite3 "$@"; }
# 300 rows, 230 of them failing the rule below
q src.db "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
	INSERT INTO items SELECT i, CASE WHEN i <= 70 THEN 'ok' ELSE 'bad' END FROM n;" ||
	{ bad "source"; finish; exit; }
plan() { # plan NAME CHUNK_ROWS MAX_REJECTS
	cat > "$1.yaml" <<YAML
source: sqlite:src.db
target: sqlite:$1.db
state: $1-state.db
defaults: {chunk_rows: $2, jobs: 1}
tables:
  - name: items
    max_rejects: $3
    columns:
      v: {rules: {in: [ok]}}
YAML
}
names_table() { grep -q 'items.*error budget' "$WORK/last.out" "$WORK/last.err"; }

# one chunk: the budget is exceeded by the table's only (last) chunk
plan one 10000 5
expect_exit 1 "one chunk over budget: exit 1" "$BARGE" run one.yaml --no-progress
check "one chunk: the message names the table" names_table
check "one chunk: one chunk planned" [ "$(q one-state.db "SELECT count(*) FROM units")" = 1 ]
check "one chunk: run failed" [ "$(q one-state.db "SELECT status FROM runs ORDER BY id DESC LIMIT 1")" = failed ]
check "one chunk: rejects recorded" [ "$(q one-state.db "SELECT count(*) FROM rejects WHERE table_name='items'")" = 230 ]
check "one chunk: good rows written" [ "$(q one.db "SELECT count(*) FROM items")" = 70 ]
expect_exit 1 "one chunk, same budget again: exit 1" "$BARGE" run one.yaml --no-progress
check "again: the message names the table" names_table
plan one 10000 1000
expect_exit 3 "one chunk, raised budget: exit 3" "$BARGE" run one.yaml --no-progress

# several chunks: the later ones are not run, as before
plan many 50 5
expect_exit 1 "several chunks over budget: exit 1" "$BARGE" run many.yaml --no-progress
check "several chunks: the message names the table" names_table
check "several chunks: later chunks not run" [ "$(q many-state.db "SELECT count(*) FROM units WHERE status='failed' AND last_error LIKE 'not run%'")" -gt 0 ]
check "several chunks: rejects recorded" [ "$(q many-state.db "SELECT count(*) FROM rejects WHERE table_name='items'")" -gt 5 ]
finish
