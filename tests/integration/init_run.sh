# barge init -> barge run: the plan init writes copies every table exactly;
# an edited plan (a table renamed with target:, a column renamed with to:,
# a column skipped, a per-table mode) gives exactly those changes and no
# others; --tables runs a subset of the plan.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 800 --orders 1500 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
TABLES="customers orders order_items audit_log"

expect_exit 0 "init" "$BARGE" init sqlite:shop.db sqlite:out.db
cp "$WORK/last.out" plan.yaml
check "init: plan on stdout, nothing on stderr" [ -s plan.yaml ] && [ ! -s "$WORK/last.err" ]
check "init: nothing created" [ ! -e out.db ] && [ ! -e barge-state.db ]
for t in $TABLES; do
	check "init: plan lists $t" grep -q "^  - name: $t " plan.yaml
done

expect_exit 0 "run the plan as written" "$BARGE" run plan.yaml --no-progress
for t in $TABLES; do
	check "as written: $t exact" same_table shop.db out.db "$t"
done
check "as written: no other table" [ "$(sqlite3 out.db "SELECT count(*) FROM sqlite_master WHERE type='table'")" = 4 ]
check "as written: the plan's state file" [ "$(sqlite3 barge-state.db "SELECT status FROM runs")" = done ]

# Edit the plan the way a user would: uncomment and fill in its own lines.
awk '
	/^  - name: / { t = $3 }
	t == "customers" && /^    # target:/ { print "    target: clients"; next }
	t == "customers" && /^      email: \{\}/ { sub(/\{\}/, "{to: mail}") }
	t == "customers" && /^      fax: \{\}/ { sub(/\{\}/, "{skip: true}") }
	t == "orders" && /^    # mode:/ { print "    mode: upsert"; next }
	/^state:/ { print "state: edited-state.db"; next }
	/^target:/ { print "target: sqlite:edited.db"; next }
	{ print }
' plan.yaml > edited.yaml
check "the edits are in the plan" [ "$(diff plan.yaml edited.yaml | grep -c '^>')" = 6 ]
expect_exit 0 "run the edited plan" "$BARGE" run edited.yaml --no-progress
check "edited: customers is now clients" [ "$(sqlite3 edited.db "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type='table' ORDER BY name)")" = "audit_log clients order_items orders" ]
check "edited: clients has the columns, email as mail, no fax" \
	[ "$(sqlite3 edited.db "SELECT group_concat(name || ':' || type, ' ') FROM pragma_table_info('clients')")" = \
	  "id:INTEGER name:TEXT mail:TEXT country:TEXT signup:DATETIME balance:NUMERIC(14,2) active:TEXT" ] ||
	sqlite3 edited.db "SELECT group_concat(name || ':' || type, ' ') FROM pragma_table_info('clients')" >&2
# every value of clients is the source's, under its new column name
q_src="SELECT id, name, email, country, signup, balance, active, typeof(balance) FROM customers ORDER BY id"
q_dst="SELECT id, name, mail, country, signup, balance, active, typeof(balance) FROM clients ORDER BY id"
check "edited: clients holds customers' values" [ "$(sqlite3 shop.db "$q_src" | md5sum)" = "$(sqlite3 edited.db "$q_dst" | md5sum)" ]
check "edited: clients has every row" [ "$(sqlite3 edited.db 'SELECT count(*) FROM clients')" = 800 ]
for t in orders order_items audit_log; do
	check "edited: $t unchanged" same_table shop.db edited.db "$t"
done
check "edited: the run recorded orders as upsert, the others insert" python3 -c "
import json, sqlite3
c = json.loads(sqlite3.connect('edited-state.db').execute('SELECT config FROM runs').fetchone()[0])
modes = {t['name']: t['mode'] for t in c['tables']}
assert modes == {'audit_log': 'insert', 'customers': 'insert', 'orders': 'upsert', 'order_items': 'insert'}, modes
assert [t['target'] for t in c['tables'] if t['name'] == 'customers'] == ['clients']"
# the mode is live: a full re-run of orders merges, of order_items conflicts
before=$(db_digest edited.db)
expect_exit 0 "edited: re-running upsert orders merges" "$BARGE" run edited.yaml --tables orders --restart --no-progress
expect_exit 1 "edited: re-running insert order_items conflicts" "$BARGE" run edited.yaml --tables order_items --restart --no-progress
check "edited: unchanged by the re-runs" [ "$before" = "$(db_digest edited.db)" ]

# --tables: only the tables named
sed -i 's/^target: .*/target: sqlite:sub.db/' plan.yaml
expect_exit 0 "--tables into a new target" "$BARGE" run plan.yaml --tables orders,audit_log --state sub2-state.db --no-progress
check "--tables: just those two tables" [ "$(sqlite3 sub.db "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type='table' ORDER BY name)")" = "audit_log orders" ]
check "--tables: orders exact" same_table shop.db sub.db orders
check "--tables: audit_log exact" same_table shop.db sub.db audit_log
check "--tables: summary names only those" [ "$(grep -cE '^(customers|order_items) ' "$WORK/last.out")" = 0 ]
expect_exit 2 "--tables with a name not in the plan" "$BARGE" run plan.yaml --tables nosuch --state sub3-state.db
check "--tables: unknown name named" grep -q "nosuch" "$WORK/last.err"
check "--tables: unknown name, nothing created" [ ! -e sub3-state.db ]
finish
