# Issue 5's order, references and key remapping on a three-level hierarchy
# whose names sort backwards (parents last by name): zcust <- yorder <-
# xitem. Tables load parents first, children of rejected, filtered or
# missing parents are rejected with the reason, new uuid keys rewrite the
# foreign keys two levels down through barge_keymap, and --dry-run prints
# the mapping and the sample's rejects without creating any file.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/fixtures/legacy_shop.bash"
q() { sqlite3 "$@"; }

legacy_shop --refs src.db 240 700
# what should be rejected, computed independently in SQL
legacy_wants src.db

# 1. order alone: declared FKs, tables listed by name, four workers
cat > order.yaml <<'YAML'
source: sqlite:src.db
target: sqlite:order.db
state: order-state.db
defaults: {chunk_rows: 50, jobs: 4}
tables: [xitem, yorder, zcust]
YAML
expect_exit 0 "order: copy" "$BARGE" run order.yaml --no-progress
check "order: parents first in the log" [ "$(q order-state.db "SELECT message FROM log WHERE event='order'")" = "load order: zcust, yorder, xitem" ]
check "order: planned (and claimed) parents first" [ "$(q order-state.db "SELECT group_concat(table_name) FROM (SELECT DISTINCT table_name FROM units ORDER BY id)")" = "zcust,yorder,xitem" ]
check "order: summary line" grep -q "load order: zcust, yorder, xitem" "$WORK/last.out"
for t in zcust yorder xitem; do check "order: $t copied" same_table src.db order.db $t; done

# 2 + 3. references and key remapping through two levels, with --jobs 3
legacy_plan sqlite:src.db sqlite:new.db state.db "{chunk_rows: 40, jobs: 3, mode: upsert}" > plan.yaml
# 4. the dry run first: mapping, sample rejects, nothing created
expect_exit 3 "dry run (exit 3: the sample has rejects)" "$BARGE" run plan.yaml --dry-run --no-progress
check "dry run: nothing created" test ! -e new.db -a ! -e state.db
check "dry run: mapping of a renamed column" grep -q "^  id .*-> legacy_id int64" "$WORK/last.out"
check "dry run: the added key" grep -q "^  id .*-> id uuid: uuid_v5 of id" "$WORK/last.out"
check "dry run: the remapped foreign key" grep -q "cust_id .*-> cust_id uuid.*remapped to customers.id through barge_keymap" "$WORK/last.out"
check "dry run: rejects by rule" grep -q "^    regex  *4$" "$WORK/last.out"
check "dry run: a reject shown" grep -q "^      \[10\] column email: .bad address. does not match @" "$WORK/last.out"
check "dry run: references not checked" grep -q "references are not checked in a dry run" "$WORK/last.out"

expect_exit 3 "references: run with rejects" "$BARGE" run plan.yaml --no-progress
check "customers: the filtered and rejected are out" [ "$(q new.db "SELECT count(*) FROM customers")" = "$want_cust" ]
check "orders: children of missing, filtered and rejected customers rejected" [ "$(q new.db "SELECT count(*) FROM orders")" = "$want_orders" ]
check "items: grandchildren rejected too" [ "$(q new.db "SELECT count(*) FROM xitem")" = "$want_items" ]
check "every row written or rejected" [ $(( $(q new.db "SELECT count(*) FROM xitem") + $(q state.db "SELECT count(*) FROM rejects WHERE table_name='xitem'") )) = 700 ]
check "an orphan's reason" [ "$(q state.db "SELECT message FROM rejects WHERE table_name='yorder' AND source_key='[40]'")" = "column cust_id: references zcust.id = 999, which is not in the target" ]
check "a rejected parent's child's reason" [ "$(q state.db "SELECT rule || ': ' || message FROM rejects WHERE table_name='yorder' AND source_key='[9]'")" = "references: column cust_id: references zcust.id = 10, which is not in the target" ]
check "a NULL reference passes" [ "$(q new.db "SELECT count(*) FROM orders WHERE legacy_id = 41 AND cust_id IS NULL")" = 1 ]
check "orders.cust_id rewritten to the customers' new key" [ "$(q new.db "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.cust_id")" = "$(q new.db "SELECT count(*) FROM orders WHERE cust_id IS NOT NULL")" ]
check "... the same customer as in the source" [ "$(q new.db "ATTACH 'src.db' AS s; SELECT count(*) FROM orders o JOIN customers c ON c.id = o.cust_id JOIN s.yorder so ON so.id = o.legacy_id WHERE so.cust_id != c.legacy_id")" = 0 ]
check "xitem.order_id rewritten to the orders' new key (level 2)" [ "$(q new.db "ATTACH 'src.db' AS s; SELECT count(*) FROM xitem i JOIN orders o ON o.id = i.order_id JOIN s.xitem si ON si.id = i.id WHERE si.order_id = o.legacy_id")" = "$want_items" ]
check "the key map: both tables" [ "$(q new.db "SELECT group_concat(table_name || '=' || n) FROM (SELECT table_name, count(*) n FROM barge_keymap GROUP BY 1 ORDER BY 1)")" = "customers=$want_cust,orders=$want_orders" ]
check "the key map agrees with the new keys" [ "$(q new.db "SELECT count(*) FROM barge_keymap k JOIN orders o ON k.table_name = 'orders' AND o.legacy_id = k.legacy_key AND o.id = k.new_key")" = "$want_orders" ]
# an idempotent re-run: nothing duplicated
expect_exit 3 "re-run --restart" "$BARGE" run plan.yaml --no-progress --restart
check "re-run: same counts" [ "$(q new.db "SELECT count(*) FROM xitem")/$(q new.db "SELECT count(*) FROM barge_keymap")" = "$want_items/$((want_cust + want_orders))" ]

# a cycle is reported and loaded in name order
q cyc.db "CREATE TABLE a(id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id));
CREATE TABLE b(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
CREATE TABLE c(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 1); INSERT INTO c VALUES (1, 1);"
expect_exit 0 "cycle: copy" "$BARGE" copy sqlite:cyc.db sqlite:cyc-out.db --state cyc-state.db --no-progress
check "cycle: reported" grep -q "load order: a, b, c; foreign-key cycle: " "$WORK/last.out"
check "cycle: copied" same_table cyc.db cyc-out.db a

# a reference the target cannot resolve is refused before anything moves
printf 'source: sqlite:src.db\ntarget: sqlite:bad.db\nstate: bad-state.db\ntables:\n  - name: yorder\n    columns:\n      cust_id: {references: nosuch.id}\n' > bad.yaml
expect_exit 2 "unknown referenced table: exit 2" "$BARGE" run bad.yaml --no-progress
check "unknown referenced table: nothing created" test ! -e bad.db -a ! -e bad-state.db
check "unknown referenced table: says why" grep -q "neither in this job nor in the target" "$WORK/last.err"
finish
