# Plan invariants (docs/plan.md): aggregates per table compared across
# source and target, through the plan's column renames, with a where;
# each reported in the text report and the --report JSON, exit 1 when one
# differs even though every row is equal (a where the run applied to the
# source only), exit 2 for an invariant the plan cannot hold.
. "$(dirname "$0")/lib.bash"

sqlite3 src.db <<'SQL'
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
                    amount NUMERIC NOT NULL, status TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO orders SELECT i, 1 + i % 37, (i % 100) * 1.25, CASE WHEN i % 4 = 0 THEN 'paid' ELSE 'new' END FROM n;
SQL
cat > plan.yaml <<'YAML'
source: sqlite:src.db
target: sqlite:dst.db
state: st.db
defaults: {chunk_rows: 100}
tables:
  - name: orders
    columns:
      customer_id: {to: client_id}
    invariants:
      - sum(amount)
      - count(distinct customer_id)
      - max(amount) where status = 'paid' and customer_id > 3
      - count(*)
YAML
expect_exit 0 "run" "$BARGE" run plan.yaml --no-progress
expect_exit 0 "every invariant holds" "$BARGE" verify plan.yaml --report ok.json
check "text report: 4 of 4 hold" grep -q 'orders *invariants: 4 of 4 hold' "$WORK/last.out"
check "JSON: four invariants, each equal, with both values" python3 -c "
import json; t=json.load(open('ok.json'))['tables'][0]; v=t['invariants']
assert [x['invariant'] for x in v]==['sum(amount)','count(distinct customer_id)',\"max(amount) where status = 'paid' and customer_id > 3\",'count(*)'], v
assert all(x['equal'] and x['source']==x['target'] for x in v), v
assert v[1]['source']=='37' and v[3]['source']=='500', v"

# a customer moved: rows differ AND count(distinct) changes
sqlite3 dst.db "UPDATE orders SET client_id = 1 WHERE client_id = 2"
expect_exit 1 "a changed invariant: exit 1" "$BARGE" verify plan.yaml --report bad.json
check "text report names the invariant and both values" grep -q "invariant orders count(distinct customer_id): source 37, target 36" "$WORK/last.out"
check "JSON: that one not equal, the others equal" python3 -c "
import json; t=json.load(open('bad.json'))['tables'][0]; v={x['invariant']:x['equal'] for x in t['invariants']}
assert v=={'sum(amount)':True,'count(distinct customer_id)':False,\"max(amount) where status = 'paid' and customer_id > 3\":True,'count(*)':True}, v"
expect_exit 0 "fix" "$BARGE" fix plan.yaml

# the same rows, another sum: only the invariant can tell (1.25 x 100 more)
sqlite3 dst.db "UPDATE orders SET amount = amount + 1.25 WHERE id = 7; UPDATE orders SET amount = amount - 1.25 WHERE id = 8;"
expect_exit 1 "rows differ, the sum holds" "$BARGE" verify plan.yaml
check "sum still holds" bash -c "! grep -q 'invariant orders sum' '$WORK/last.out'"
sqlite3 dst.db "UPDATE orders SET amount = amount - 1.25 WHERE id = 7; UPDATE orders SET amount = amount + 1.25 WHERE id = 8;"
expect_exit 0 "back to equal" "$BARGE" verify plan.yaml

# an invariant the plan cannot hold
sed -i 's/- count(\*)$/- median(amount)/' plan.yaml
expect_exit 2 "an unknown aggregate is a usage error" "$BARGE" verify plan.yaml
check "the message names the invariant" grep -q "median(amount)" "$WORK/last.err"
sed -i 's/- median(amount)$/- sum(nope)/' plan.yaml
expect_exit 2 "an unknown column: exit 2" "$BARGE" verify plan.yaml
check "the message names the column" grep -q "no column 'nope'" "$WORK/last.err"
finish
