# The issue 5 plan, verbatim, on a small mkshop database: renames, casts,
# transforms, rejects (listed by `barge rejects` in each format), the error
# budget both ways (exit 3 under it, exit 1 over it), and bad plans refused
# before anything is created (exit 2).
. "$(dirname "$0")/lib.bash"

"$MKSHOP" legacy.db --customers 400 --orders 800 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
cat > plan.yaml <<'YAML'
source: sqlite:legacy.db
target: sqlite:new.db
state: migrate-state.db
defaults: {chunk_rows: 10000, jobs: 2, mode: upsert}
tables:
  - name: customers              # source table
    target: clients              # target table
    key: [id]
    where: "signup >= '2015-01-01'"
    max_rejects: 1000            # or max_reject_ratio: 0.01
    columns:
      id:      {to: legacy_id}
      name:    {to: full_name, transform: trim, rules: {required: true, max_length: 60}}
      email:   {transform: lower, rules: {regex: '^[^@ ]+@[^@ ]+\.[a-z]+$'}}
      country: {default: 'US', rules: {in: [US, DE, FR, JP, BR]}}
      signup:  {type: timestamp, timezone: {from: America/New_York, to: UTC}}
      balance: {type: decimal(14,2), round: 2, rules: {min: 0}}
      active:  {map: {'Y': true, 'N': false}, type: bool}
      fax:     {skip: true}
    add:
      id:      {uuid_v5: {namespace: 6ba7b811-9dad-11d1-80b4-00c04fd430c8, from: id}}
  - name: orders
    columns:
      customer_id: {references: customers.id}
YAML
expect_exit 3 "issue 5 plan: done with rejects" "$BARGE" run plan.yaml --no-progress
q() { sqlite3 "$@"; }
read_rows=$(q legacy.db "SELECT count(*) FROM customers WHERE signup >= '2015-01-01'")
written=$(q new.db "SELECT count(*) FROM clients")
rejected=$(q migrate-state.db "SELECT count(*) FROM rejects WHERE table_name='customers'")
check "every row written or rejected ($written + $rejected = $read_rows)" [ $((written + rejected)) = "$read_rows" ]
check "some rows rejected" [ "$rejected" -gt 0 ]
check "units count the rejects" [ "$(q migrate-state.db "SELECT sum(rows_rejected) FROM units WHERE table_name='customers'")" = "$rejected" ]
check "renamed columns" [ "$(q new.db "SELECT group_concat(name) FROM pragma_table_info('clients')")" = "legacy_id,full_name,email,country,signup,balance,active,id" ]
check "no fax" [ "$(q new.db "SELECT count(*) FROM pragma_table_info('clients') WHERE name='fax'")" = 0 ]
check "names trimmed" [ "$(q new.db "SELECT count(*) FROM clients WHERE full_name != trim(full_name)")" = 0 ]
check "emails lower" [ "$(q new.db "SELECT count(*) FROM clients WHERE email != lower(email)")" = 0 ]
check "countries in the list" [ "$(q new.db "SELECT count(*) FROM clients WHERE country NOT IN ('US','DE','FR','JP','BR')")" = 0 ]
check "NULL country became US" [ "$(q new.db "ATTACH 'legacy.db' AS l; SELECT count(*) FROM clients c JOIN l.customers s ON s.id = c.legacy_id WHERE s.country IS NULL AND c.country != 'US'")" = 0 ]
check "no negative balance" [ "$(q new.db "SELECT count(*) FROM clients WHERE balance < 0")" = 0 ]
check "active is 0/1" [ "$(q new.db "SELECT count(*) FROM clients WHERE active NOT IN (0,1)")" = 0 ]
check "uuid v5 of id 42 (if loaded)" [ "$(q new.db "SELECT coalesce((SELECT id FROM clients WHERE legacy_id = 42), '5c2b23de-4bad-58ee-a4b3-f22f3b9cfd7d')")" = "5c2b23de-4bad-58ee-a4b3-f22f3b9cfd7d" ]
# signup: New York wall time -> UTC (summer +4 h, winter +5 h)
check "signup moved to UTC" [ "$(q new.db "ATTACH 'legacy.db' AS l; SELECT count(*) FROM clients c JOIN l.customers s ON s.id = c.legacy_id WHERE (strftime('%s', c.signup) - strftime('%s', s.signup)) NOT IN (14400, 18000)")" = 0 ]
# orders.customer_id references customers.id, whose key was remapped to
# the uuid_v5 `id`: every order is written (its customer_id now the uuid)
# or rejected for a customer that is not in the target
orej=$(q migrate-state.db "SELECT count(*) FROM rejects WHERE table_name='orders' AND rule='references'")
check "orders written or rejected" [ $(( $(q new.db "SELECT count(*) FROM orders") + orej )) = 800 ]
check "some orders rejected (their customer is filtered or rejected)" [ "$orej" -gt 0 ]
check "every written order joins its client by the new key" [ "$(q new.db "SELECT count(*) FROM orders o LEFT JOIN clients c ON c.id = o.customer_id WHERE c.id IS NULL")" = 0 ]
check "the key map holds every client" [ "$(q new.db "SELECT count(*) FROM barge_keymap k JOIN clients c ON c.legacy_id = k.legacy_key AND c.id = k.new_key WHERE k.table_name='clients'")" = "$written" ]
check "the reject names the parent" [ "$(q migrate-state.db "SELECT count(*) FROM rejects WHERE table_name='orders' AND message LIKE 'column customer_id: references customers.id = %, which is not in the target'")" = "$orej" ]
check "load order logged" [ "$(q migrate-state.db "SELECT message FROM log WHERE event='order'")" = "load order: customers, orders" ]
total=$((rejected + orej))

# the rejects, in each format
expect_exit 0 "rejects text" "$BARGE" rejects --state migrate-state.db
check "text names a rule" grep -q 'customers \[[0-9]*\]  \(in\|regex\|min\|type\|required\|max_length\)' "$WORK/last.out"
check "text counts" grep -q "$total rejected rows" "$WORK/last.err"
expect_exit 0 "rejects json" "$BARGE" rejects --state migrate-state.db --format json --table customers
check "json lines parse, one per reject" python3 -c "
import json,sys
rows=[json.loads(l) for l in open('$WORK/last.out')]
assert len(rows)==$rejected, len(rows)
assert all(r['table']=='customers' and isinstance(r['row'],dict) and 'fax' in r['row'] and len(r['key'])==1 for r in rows)"
expect_exit 0 "rejects csv" "$BARGE" rejects --state migrate-state.db --format csv
check "csv parses" python3 -c "
import csv
rows=list(csv.DictReader(open('$WORK/last.out')))
assert len(rows)==$total and rows[0]['rule'] and rows[0]['row'].startswith('{')"
expect_exit 0 "rejects of another table" "$BARGE" rejects --state migrate-state.db --table orders --format csv
check "orders' own rejects" [ "$(wc -l < "$WORK/last.out")" = $((orej + 1)) ]

# a re-run of a chunk replaces its rejects rather than adding to them
expect_exit 3 "re-run chunk 0" "$BARGE" run plan.yaml --table customers --chunk 0 --no-progress
check "rejects not duplicated" [ "$(q migrate-state.db "SELECT count(*) FROM rejects WHERE table_name='customers'")" = "$rejected" ]

# the budget: over it, the table stops and the run exits 1
"$MKSHOP" small.db --customers 400 --orders 0 >/dev/null 2>&1
cat > over.yaml <<'YAML'
source: sqlite:small.db
target: sqlite:over.db
state: over-state.db
defaults: {chunk_rows: 50}
tables:
  - name: customers
    max_rejects: 3
    columns:
      country: {rules: {in: [US]}}
YAML
expect_exit 1 "over budget: exit 1" "$BARGE" run over.yaml --no-progress
check "summary says over budget" grep -q 'error budget' "$WORK/last.out"
check "later chunks not run" [ "$(q over-state.db "SELECT count(*) FROM units WHERE status='failed' AND last_error LIKE 'not run%'")" -gt 0 ]
sed 's/max_rejects: 3/max_reject_ratio: 0.9/; s/over-state/ratio-state/; s/over.db/ratio.db/' over.yaml > ratio.yaml
expect_exit 3 "under a ratio budget: exit 3" "$BARGE" run ratio.yaml --no-progress
sed 's/max_rejects: 3/max_reject_ratio: 0.01/; s/over-state/ratio2-state/; s/over.db/ratio2.db/' over.yaml > ratio2.yaml
expect_exit 1 "over a ratio budget: exit 1" "$BARGE" run ratio2.yaml --no-progress

# bad plans: refused before anything is created
bad_plan() { # bad_plan WHAT OPTIONS
	rm -f bad.db bad-state.db
	printf 'source: sqlite:small.db\ntarget: sqlite:bad.db\nstate: bad-state.db\ntables:\n  - name: customers\n    columns:\n      %s\n' "$2" > bad.yaml
	expect_exit 2 "$1: exit 2" "$BARGE" run bad.yaml --no-progress
	check "$1: nothing created" test ! -e bad.db -a ! -e bad-state.db
}
bad_plan "unknown column" "nosuch: {transform: trim}"
bad_plan "bad regex" "email: {rules: {regex: '(unclosed'}}"
bad_plan "unknown time zone" "signup: {timezone: {from: Mars/Olympus, to: UTC}}"
bad_plan "unknown transform" "name: {transform: shout}"
bad_plan "unknown type" "balance: {type: money}"
bad_plan "min on text" "name: {rules: {min: 3}}"
finish
