# `barge verify PLAN.yaml` compares through the plan's mapping: transformed
# and cast columns are checked after the same transforms, rows the mapping
# rejects are expected to be absent, and a changed transformed value is
# found by its (renamed) key and column.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" legacy.db --customers 400 --orders 10 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
cat > plan.yaml <<'YAML'
source: sqlite:legacy.db
target: sqlite:new.db
state: migrate-state.db
defaults: {chunk_rows: 100, jobs: 2, mode: upsert}
tables:
  - name: customers
    target: clients
    key: [id]
    max_rejects: 1000
    columns:
      id:      {to: legacy_id}
      name:    {to: full_name, transform: trim, rules: {required: true, max_length: 60}}
      email:   {transform: lower, rules: {regex: '^[^@ ]+@[^@ ]+\.[a-z]+$'}}
      country: {default: 'US', rules: {in: [US, DE, FR, JP, BR]}}
      balance: {type: decimal(14,2), round: 2, rules: {min: 0}}
      fax:     {skip: true}
YAML
expect_exit 3 "plan run: done with rejects" "$BARGE" run plan.yaml --no-progress
q() { sqlite3 "$@"; }
rejected=$(q migrate-state.db "SELECT count(*) FROM rejects WHERE table_name='customers'")
check "some rows rejected" [ "$rejected" -gt 0 ]
check "some emails were not lower case in the source" [ "$(q legacy.db "SELECT count(*) FROM customers WHERE email != lower(email)")" -gt 0 ]

expect_exit 0 "verify through the mapping: equal" "$BARGE" verify plan.yaml --chunk-rows 100 --report equal.json
check "report says equal" grep -q '"equal":true' equal.json
check "target rows = written rows" python3 -c "
import json; r=json.load(open('equal.json')); t=r['tables'][0]
assert t['source_rows']==t['target_rows']==$(q new.db "SELECT count(*) FROM clients"), t"
expect_exit 0 "verify through the mapping with 2 jobs" "$BARGE" verify plan.yaml --chunk-rows 50 --jobs 2

# a transformed value changed in the target; a rejected row stays absent
victim=$(q new.db "SELECT legacy_id FROM clients WHERE email LIKE '%@%' ORDER BY legacy_id LIMIT 1 OFFSET 7")
q new.db "UPDATE clients SET email = upper(email) WHERE legacy_id = $victim"
rej_id=$(q migrate-state.db "SELECT json_extract(source_key, '\$[0]') FROM rejects WHERE table_name='customers' LIMIT 1")
expect_exit 1 "verify finds the changed value" "$BARGE" verify plan.yaml --chunk-rows 100 --leaf-rows 20 --report diff.json
py() { python3 -c "import json,sys; r=json.load(open('diff.json')); t=r['tables'][0]; sys.exit(0 if ($1) else 1)"; }
check "changed email of $victim, by the renamed key" py "{'kind':'changed','key':{'legacy_id':$victim},'columns':['email']} in t['differences']"
check "exactly one difference" py "len(t['differences']) == 1 and t['missing'] == 0 and t['extra'] == 0"
check "the rejected row ($rej_id) is not missing" py "all(d['key'] != {'legacy_id': $rej_id} for d in t['differences'])"
check "the summary names the key and column" grep -q "email" "$WORK/last.out"
expect_exit 0 "fix through the mapping" "$BARGE" fix plan.yaml --chunk-rows 100
check "fix: the value mapped again" [ "$(q new.db "SELECT email = lower(email) FROM clients WHERE legacy_id = $victim")" = 1 ]
check "fix: the rejected row still absent" [ "$(q new.db "SELECT count(*) FROM clients WHERE legacy_id = $rej_id")" = 0 ]
finish
