# `barge verify PLAN.yaml` through what the run did besides the mapping:
# rows it rejected for `references` (its state store) are not `missing`,
# and foreign keys it rewrote to a parent's uuid_v5 key (two levels) are
# compared rewritten. A real difference is still found.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/fixtures/legacy_shop.bash"
q() { sqlite3 "$@"; }

legacy_shop --no-since --no-null src.db 240 700
legacy_plan --all sqlite:src.db sqlite:new.db state.db "{chunk_rows: 100, jobs: 2, mode: upsert}" > plan.yaml
expect_exit 3 "run with references rejects" "$BARGE" run plan.yaml --no-progress
check "orders and items were rejected for references" [ "$(q state.db "SELECT count(DISTINCT table_name) FROM rejects WHERE rule = 'references'")" = 2 ]
expect_exit 0 "verify: equal through rejects and remapped keys" "$BARGE" verify plan.yaml --chunk-rows 50 --report equal.json
check "report: every table equal" python3 -c "
import json; r=json.load(open('equal.json'))
assert all(t['equal'] and t['missing'] == 0 and t['changed'] == 0 for t in r['tables']), r"

# a remapped foreign key changed, a loaded row deleted: both found; the
# rejected rows still not reported
q new.db "UPDATE xitem SET order_id = (SELECT id FROM orders WHERE legacy_id = 3) WHERE id = 5;
DELETE FROM orders WHERE legacy_id = 7;"
expect_exit 1 "verify finds the differences" "$BARGE" verify plan.yaml --chunk-rows 50 --leaf-rows 10 --report diff.json
py() { python3 -c "import json,sys; r=json.load(open('diff.json')); t={x['table']:x for x in r['tables']}; sys.exit(0 if ($1) else 1)"; }
check "the changed foreign key" py "{'kind':'changed','key':{'id':5},'columns':['order_id']} in t['xitem']['differences']"
check "the deleted order" py "[d['kind'] for d in t['yorder']['differences']] == ['missing'] and t['yorder']['differences'][0]['key'] == {'legacy_id': 7}"
check "nothing else" py "len(t['xitem']['differences']) == 1 and t['zcust']['equal']"

# fix through the mapping: each difference migrated again by a one-row run
expect_exit 0 "fix" "$BARGE" fix plan.yaml --chunk-rows 50
check "fix: the foreign key rewritten again" [ "$(q new.db "SELECT count(*) FROM xitem i JOIN orders o ON o.id = i.order_id WHERE i.id = 5 AND o.legacy_id = 6")" = 1 ]
check "fix: the order back, with its new key" [ "$(q new.db "SELECT count(*) FROM orders o JOIN barge_keymap k ON k.table_name = 'orders' AND k.legacy_key = '7' AND k.new_key = o.id WHERE o.legacy_id = 7")" = 1 ]
expect_exit 0 "verify after fix: equal" "$BARGE" verify plan.yaml --chunk-rows 50
finish
