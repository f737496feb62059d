# A self-referencing table with `references` (emp.manager_id -> emp.id):
# a row whose manager is later in its chunk, or in a later chunk, loads;
# a row whose manager is missing, filtered out by `where` or rejected by a
# rule is rejected with that reason, and so are its reports, all the way
# down; a row naming itself loads; two rows naming each other (and no one
# else) are rejected. Every loaded row's manager is in the target. The
# expected rows are computed in SQL (a recursive query over the source).
. "$(dirname "$0")/lib.bash"
q() { sqlite3 "$@"; }

python3 - <<'PY'
import random, sqlite3
random.seed(5)
db = sqlite3.connect("src.db")
db.execute("CREATE TABLE emp(id INTEGER PRIMARY KEY, manager_id INTEGER, name TEXT, dept TEXT)")
ids = list(range(1, 601))
random.shuffle(ids)          # managers come before or after their reports
rows = {ids[0]: None}
for k in range(1, len(ids)):
    rows[ids[k]] = ids[random.randrange(0, k)]
rows[ids[5]] = 99999         # a manager who is not there
rows[ids[7]] = ids[7]        # names itself: a root
a, b = ids[-1], ids[-2]      # two rows naming each other only
rows[a], rows[b] = b, a
for i, m in rows.items():
    name = "" if i % 53 == 0 else "e%d" % i      # rejected by the rule
    dept = "gone" if i % 61 == 0 else "d"        # filtered out by where
    db.execute("INSERT INTO emp VALUES (?, ?, ?, ?)", (i, m, name, dept))
db.commit()
PY
pass="dept <> 'gone' AND name LIKE 'e%'"
want=$(q src.db "WITH RECURSIVE ok(id) AS (
  SELECT id FROM emp WHERE $pass AND (manager_id IS NULL OR manager_id = id)
  UNION SELECT e.id FROM emp e JOIN ok ON e.manager_id = ok.id AND e.id <> ok.id WHERE e.$pass)
SELECT count(*) FROM ok")
read_rows=$(q src.db "SELECT count(*) FROM emp WHERE dept <> 'gone'")
check "the data has later managers" [ "$(q src.db "SELECT count(*) FROM emp WHERE manager_id > id AND manager_id < 99999")" -gt 100 ]

for mode in upsert replace; do
	for jobs in 1 3; do
		n=$mode-$jobs
		cat > $n.yaml <<YAML
source: sqlite:src.db
target: sqlite:$n.db
state: $n-state.db
defaults: {chunk_rows: 50, batch_rows: 8, jobs: $jobs, mode: $mode}
tables:
  - name: emp
    where: "dept <> 'gone'"
    columns:
      manager_id: {references: emp.id}
      name: {rules: {regex: '^e'}}
YAML
		expect_exit 3 "$n: run" "$BARGE" run $n.yaml --no-progress
		check "$n: the rows that have a chain of managers loaded" [ "$(q $n.db "SELECT count(*) FROM emp")" = "$want" ]
		check "$n: every other row read is rejected" [ "$(q $n-state.db "SELECT count(*) FROM rejects")" = "$((read_rows - want))" ]
		check "$n: no loaded row's manager is missing" [ "$(q $n.db "SELECT count(*) FROM emp e WHERE manager_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM emp m WHERE m.id = e.manager_id)")" = 0 ]
		check "$n: the missing manager's reason" [ "$(q $n-state.db "SELECT count(*) FROM rejects WHERE message LIKE 'column manager_id: references emp.id = 99999, which is not in the target'")" = 1 ]
		check "$n: the rounds are logged" [ "$(q $n-state.db "SELECT count(*) FROM log WHERE event = 'selfref'")" -ge 1 ]
	done
done
check "the four runs agree" [ "$(for n in upsert-1 upsert-3 replace-1 replace-3; do q $n.db "SELECT group_concat(id) FROM (SELECT id FROM emp ORDER BY id)" | md5sum; done | sort -u | wc -l)" = 1 ]
# the rule and the filter cascade: the reports of a rejected and of a
# filtered-out manager are rejected for references
check "a rejected manager's report" [ "$(q src.db "ATTACH 'upsert-1-state.db' AS st; SELECT r.rule FROM st.rejects r JOIN (SELECT e.id FROM emp e JOIN emp m ON m.id = e.manager_id WHERE m.name = '' AND e.dept <> 'gone' AND e.name LIKE 'e%' LIMIT 1) x ON r.source_key = '[' || x.id || ']'")" = references ]
check "a filtered-out manager's report" [ "$(q src.db "ATTACH 'upsert-1-state.db' AS st; SELECT r.rule FROM st.rejects r JOIN (SELECT e.id FROM emp e JOIN emp m ON m.id = e.manager_id WHERE m.dept = 'gone' AND e.dept <> 'gone' AND e.name LIKE 'e%' LIMIT 1) x ON r.source_key = '[' || x.id || ']'")" = references ]


# the error budget counts the final rejects, not those the rounds undo
sed -e 's/upsert-1/b/g' -e "s/  - name: emp/  - name: emp\n    max_rejects: $((read_rows - want))/" upsert-1.yaml > b.yaml
check "budget plan" grep -q "max_rejects: $((read_rows - want))" b.yaml
expect_exit 3 "budget exactly the final rejects: the table loads" "$BARGE" run b.yaml --no-progress
check "budget: the same rows" [ "$(q b.db "SELECT count(*) FROM emp")" = "$want" ]
sed -e 's/upsert-1/b2/g' -e "s/  - name: emp/  - name: emp\n    max_rejects: $((read_rows - want - 1))/" upsert-1.yaml > b2.yaml
expect_exit 1 "one under: over its budget once the rounds are done" "$BARGE" run b2.yaml --no-progress
check "one under: logged" [ "$(q b2-state.db "SELECT count(*) FROM log WHERE event = 'budget'")" = 1 ]

# chunks that fail in a round (from the 15th commit: the 12 chunks, then the
# rounds) stop the run (circuit breaker); resumed, they run and the rounds again
sed -e 's/upsert-1/f/g' upsert-1.yaml > f.yaml
check "12 chunks before the rounds" [ "$(q upsert-1-state.db "SELECT count(*) FROM units")" = 12 ]
BARGE_FAULT=commit:error:15:100 expect_exit 1 "a chunk fails in a round" "$BARGE" run f.yaml --no-progress
check "... it failed in a round" [ "$(q f-state.db "SELECT count(*) FROM log WHERE event = 'selfref'")" -ge 1 ]
expect_exit 3 "resumed" "$BARGE" run f.yaml --no-progress
check "resumed: the same rows as in one go" [ "$(q f.db "SELECT group_concat(id) FROM (SELECT id FROM emp ORDER BY id)")" = "$(q upsert-1.db "SELECT group_concat(id) FROM (SELECT id FROM emp ORDER BY id)")" ]
check "resumed: the same rejects" [ "$(q f-state.db "SELECT count(*) FROM rejects")" = "$((read_rows - want))" ]
finish
