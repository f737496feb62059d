# Issue 5's key remapping from a sequence: new integer keys handed out per
# chunk after the last one in barge_keyseq, the key map the source of
# truth (looked up before a number is given), foreign keys rewritten two
# levels down through barge_keymap; the same keys after a re-run, a
# re-run chunk, retried and failed-then-resumed chunks; new source rows
# numbered after the old ones; a composite key refused.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/fixtures/legacy_shop.bash"
q() { sqlite3 "$@"; }

legacy_shop --no-null --spread src.db 240 700
legacy_wants src.db

legacy_plan sqlite:src.db sqlite:new.db state.db "{chunk_rows: 40, batch_rows: 16, jobs: 3, mode: upsert}" \
	"{sequence: {from: id}}" "{sequence: {from: id, start: 1000}}" > plan.yaml
expect_exit 3 "dry run" "$BARGE" run plan.yaml --dry-run --no-progress
check "dry run: the sequence key" grep -q "^  id .*-> id int64: sequence numbered from id through barge_keymap" "$WORK/last.out"
check "dry run: the remapped foreign key" grep -q "cust_id .*-> cust_id int64.*remapped to customers.id through barge_keymap" "$WORK/last.out"

# a chunk of orders fails once (retried: its numbers are handed out again)
BARGE_FAULT=commit:retry:5:1 expect_exit 3 "run with rejects" "$BARGE" run plan.yaml --no-progress
check "an orders chunk was retried" [ "$(q state.db "SELECT count(*) FROM log l JOIN units u ON u.id = l.unit WHERE l.event = 'retry' AND u.table_name = 'yorder'")" = 1 ]
check "customers: numbered from 1000, no gap" [ "$(q new.db "SELECT min(id) || '-' || max(id) || '/' || count(DISTINCT id) FROM customers")" = "1000-$((999 + want_cust))/$want_cust" ]
check "orders: numbered from 1, no gap despite the retry" [ "$(q new.db "SELECT min(id) || '-' || max(id) || '/' || count(DISTINCT id) FROM orders")" = "1-$want_orders/$want_orders" ]
check "orders: rows of filtered/rejected/missing customers rejected" [ "$(q new.db "SELECT count(*) FROM orders")" = "$want_orders" ]
check "items: grandchildren of rejected rows rejected" [ "$(q new.db "SELECT count(*) FROM xitem")" = "$want_items" ]
check "orders.cust_id is the customer's new key, the same customer" [ "$(q new.db "ATTACH 'src.db' AS s; SELECT count(*) FROM orders o JOIN customers c ON c.id = o.cust_id JOIN s.yorder so ON so.id = o.legacy_id AND so.cust_id = c.legacy_id")" = "$want_orders" ]
check "xitem.order_id is the order's new key (level 2)" [ "$(q new.db "ATTACH 'src.db' AS s; SELECT count(*) FROM xitem i JOIN orders o ON o.id = i.order_id JOIN s.xitem si ON si.id = i.id AND si.order_id = o.legacy_id")" = "$want_items" ]
check "the key map agrees with the tables" [ "$(q new.db "SELECT count(*) FROM barge_keymap k JOIN orders o ON k.table_name = 'orders' AND o.legacy_id = k.legacy_key AND o.id = k.new_key")" = "$want_orders" ]
check "barge_keyseq: the last numbers" [ "$(q new.db "SELECT group_concat(table_name || '=' || last_value) FROM (SELECT * FROM barge_keyseq ORDER BY 1)")" = "customers=$((999 + want_cust)),orders=$want_orders" ]
check "an orphan's reason" [ "$(q state.db "SELECT message FROM rejects WHERE table_name='yorder' AND source_key='[120]'")" = "column cust_id: references zcust.id = 999, which is not in the target" ]
q new.db "SELECT legacy_id, id FROM customers UNION ALL SELECT legacy_id, id FROM orders ORDER BY 1, 2" > keys1.txt

# verify through the key map: equal; a rewritten key changed is found
expect_exit 0 "verify: equal through barge_keymap" "$BARGE" verify plan.yaml --chunk-rows 50
q new.db "UPDATE xitem SET order_id = order_id + 1 WHERE id = 10"
expect_exit 1 "verify: a changed foreign key" "$BARGE" verify plan.yaml --chunk-rows 50 --report v.json
check "verify: it is xitem 10's order_id" python3 -c "
import json; r=json.load(open('v.json')); t={x['table']:x for x in r['tables']}
assert t['xitem']['differences'] == [{'kind':'changed','key':{'id':10},'columns':['order_id']}], t['xitem']
assert t['yorder']['equal'] and t['zcust']['equal'], r"
expect_exit 0 "fix through the key map" "$BARGE" fix plan.yaml --chunk-rows 50

# the same keys: a whole re-run, and one chunk re-run
expect_exit 3 "re-run --restart" "$BARGE" run plan.yaml --no-progress --restart
q new.db "SELECT legacy_id, id FROM customers UNION ALL SELECT legacy_id, id FROM orders ORDER BY 1, 2" > keys2.txt
check "re-run: the same new keys" cmp -s keys1.txt keys2.txt
check "re-run: no number handed out twice" [ "$(q new.db "SELECT last_value FROM barge_keyseq WHERE table_name = 'orders'")" = "$want_orders" ]
expect_exit 3 "one chunk re-run (it has rejects)" "$BARGE" run plan.yaml --no-progress --table yorder --chunk 2
q new.db "SELECT legacy_id, id FROM customers UNION ALL SELECT legacy_id, id FROM orders ORDER BY 1, 2" > keys3.txt
check "chunk re-run: the same new keys" cmp -s keys1.txt keys3.txt

# new source rows: old keys stay, new ones numbered after the last
q src.db "INSERT INTO zcust VALUES (1, 'new@x.com', '2021'), (9999, 'n2@x.com', '2021');
INSERT INTO yorder VALUES (1, 9999, 1);"
expect_exit 3 "incremental re-run" "$BARGE" run plan.yaml --no-progress --restart
check "incremental: old customers keep their keys" [ "$(q new.db "SELECT count(*) FROM customers WHERE legacy_id NOT IN (1, 9999)")" = "$want_cust" ]
check "incremental: new customers numbered after the last" [ "$(q new.db "SELECT group_concat(id) FROM (SELECT id FROM customers WHERE legacy_id IN (1, 9999) ORDER BY id)")" = "$((1000 + want_cust)),$((1001 + want_cust))" ]
check "incremental: the new order points at the new customer" [ "$(q new.db "SELECT c.legacy_id FROM orders o JOIN customers c ON c.id = o.cust_id WHERE o.legacy_id = 1")" = 9999 ]

# a failed chunk, resumed: the numbers of its rows are given then
rm -f new2.db state2.db
sed -e 's/new.db/new2.db/; s/state.db/state2.db/' plan.yaml > plan2.yaml
BARGE_FAULT=commit:error:5:1 expect_exit 1 "a chunk fails" "$BARGE" run plan2.yaml --no-progress
expect_exit 3 "resumed" "$BARGE" run plan2.yaml --no-progress
check "resumed: every order numbered once, densely" [ "$(q new2.db "SELECT min(id) || '-' || max(id) || '/' || count(DISTINCT id) || '/' || count(*) FROM orders")" = "1-$((want_orders + 1))/$((want_orders + 1))/$((want_orders + 1))" ]
check "resumed: references through the key map" [ "$(q new2.db "ATTACH 'src.db' AS s; SELECT count(*) FROM orders o JOIN customers c ON c.id = o.cust_id JOIN s.yorder so ON so.id = o.legacy_id AND so.cust_id = c.legacy_id")" = "$((want_orders + 1))" ]

# a composite key cannot be numbered
q pairs.db "CREATE TABLE p(a INTEGER, b INTEGER, PRIMARY KEY (a, b)); INSERT INTO p VALUES (1, 2);"
printf 'source: sqlite:pairs.db\ntarget: sqlite:pairs-out.db\nstate: pairs-state.db\ntables:\n  - name: p\n    add:\n      id: {sequence: {from: a}}\n' > pairs.yaml
expect_exit 2 "composite key: refused" "$BARGE" run pairs.yaml --no-progress
check "composite key: says why" grep -q "table 'p': sequence 'id' needs a one-column key, and the table's key has 2 columns" "$WORK/last.err"
check "composite key: nothing created" test ! -e pairs-out.db
finish
