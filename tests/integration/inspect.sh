# barge inspect on the demo shop: text and JSON agree with sqlite3 on
# tables, columns (engine type -> logical type), keys, foreign keys and row
# counts; the load order puts parents first; the audit reports the keyless
# audit_log, a planted invalid-UTF-8 text and a TEXT value in an INTEGER
# column. A missing source is exit 2 and nothing is created.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 300 --orders 700 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
# plant two dirty values the audit must find
sqlite3 shop.db "UPDATE customers SET name = CAST(x'41ff42' AS TEXT) WHERE id = 5;
	UPDATE orders SET customer_id = 'abc' WHERE id = 17;"
src_digest=$(md5sum < shop.db)

expect_exit 0 "inspect (text)" "$BARGE" inspect sqlite:shop.db
cp "$WORK/last.out" text.out
expect_exit 0 "inspect --format json" "$BARGE" inspect sqlite:shop.db --format json
cp "$WORK/last.out" inspect.json
check "JSON is valid" python3 -c "import json; json.load(open('inspect.json'))"

# Everything JSON says, checked against sqlite3's own view of the file.
cat > checkjson.py <<'PY'
import json, sqlite3, sys
d = json.load(open("inspect.json"))
db = sqlite3.connect("shop.db")
fails = []
def want(cond, what):
    if not cond:
        fails.append(what)
tables = {t["name"]: t for t in d["tables"]}
names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
want(sorted(tables) == names, "tables %s vs %s" % (sorted(tables), names))
logical = {"INTEGER": "int64", "TEXT": "text", "DATETIME": "timestamp",
           "NUMERIC(14,2)": "decimal", "NUMERIC(12,2)": "decimal", "NUMERIC(10,2)": "decimal"}
for name in names:
    t = tables.get(name)
    if t is None:
        continue
    n = db.execute('SELECT count(*) FROM "%s"' % name).fetchone()[0]
    want(t["rows"] == n, "%s: rows %s, sqlite3 says %s" % (name, t["rows"], n))
    info = db.execute("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", (name,)).fetchall()
    cols = t["columns"]
    want([c["name"] for c in cols] == [i[0] for i in info], "%s: column names" % name)
    for c, i in zip(cols, info):
        want(c["engine_type"] == i[1], "%s.%s: engine type %s vs %s" % (name, c["name"], c["engine_type"], i[1]))
        want(c["type"].startswith(logical[i[1]]), "%s.%s: logical type %s, wanted %s" % (name, c["name"], c["type"], logical[i[1]]))
        want(c["key_pos"] == i[2], "%s.%s: key_pos %s vs pk %s" % (name, c["name"], c["key_pos"], i[2]))
    key = [i[0] for i in sorted(info, key=lambda i: i[2]) if i[2] > 0]
    want(t["key"] == key, "%s: key %s vs %s" % (name, t["key"], key))
    fks = [{"columns": [r[3]], "ref_table": r[2], "ref_columns": [r[4]]}
           for r in db.execute("SELECT * FROM pragma_foreign_key_list(?)", (name,))]
    want(t["foreign_keys"] == fks, "%s: foreign keys %s vs %s" % (name, t["foreign_keys"], fks))
order = d["load_order"]
want(sorted(order) == names, "load order lists every table: %s" % order)
if all(x in order for x in ("customers", "orders", "order_items")):
    want(order.index("customers") < order.index("orders") < order.index("order_items"),
         "load order parents first: %s" % order)
want(d["cycles"] == [], "no cycles: %s" % d["cycles"])
want([t["name"] for t in d["tables"]] == order, "tables are listed in load order")
w = {name: " | ".join(tables[name]["warnings"]) for name in tables}
want("key" in w.get("audit_log", "") and "no primary key" in w.get("audit_log", ""),
     "audit_log has no key: %r" % w.get("audit_log"))
want("UTF-8" in w.get("customers", "") and "name" in w.get("customers", ""),
     "invalid UTF-8 in customers.name reported: %r" % w.get("customers"))
want("customer_id" in w.get("orders", "") and "abc" in w.get("orders", ""),
     "TEXT 'abc' in orders.customer_id reported: %r" % w.get("orders"))
want(not any("UTF-8" in x for x in tables["orders"]["warnings"]), "no invented warnings on orders")
want(any(m["engine"].startswith("INTEGER") and m["type"] == "int64" for m in d["type_map"]),
     "type map has INTEGER -> int64")
for f in fails:
    print("  " + f, file=sys.stderr)
sys.exit(1 if fails else 0)
PY
check "JSON matches sqlite3's view of the source" python3 checkjson.py

# The text report says the same things.
for t in customers orders order_items audit_log; do
	n=$(sqlite3 shop.db "SELECT count(*) FROM $t")
	check "text: $t has its row count ($n)" grep -q "^$t: $n rows" text.out
done
check "text: id INTEGER -> int64" grep -Eq '^ +id +INTEGER +-> int64 +NOT NULL +1' text.out
check "text: signup DATETIME -> timestamp" grep -Eq '^ +signup +DATETIME +-> timestamp' text.out
check "text: composite key" grep -q 'primary key: (order_id, line)' text.out
check "text: foreign key of orders" grep -q '(customer_id) -> customers (id)' text.out
check "text: foreign key of order_items" grep -q '(order_id) -> orders (id)' text.out
order=$(sed -n 's/^load order (parents first): //p' text.out)
check "text: load order parents first ($order)" bash -c "echo '$order' | grep -Eq 'customers, (.*, )?orders, (.*, )?order_items'"
check "text: keyless audit_log warned" bash -c "sed -n '/^audit_log:/,/^\$/p' text.out | grep -q 'no primary key'"
check "text: invalid UTF-8 warned" bash -c "sed -n '/^customers:/,/^\$/p' text.out | grep -q 'column name: 1 .*not valid UTF-8'"
check "text: TEXT in INTEGER warned" bash -c "sed -n '/^orders:/,/^\$/p' text.out | grep -q \"customer_id.*1 TEXT.*'abc'\""
check "inspect changed nothing" [ "$(md5sum < shop.db)" = "$src_digest" ]
check "inspect created nothing" [ "$(ls | sort | tr '\n' ' ')" = "checkjson.py inspect.json last.err last.out shop.db text.out " ]

# --tables and --no-audit
expect_exit 0 "inspect --tables orders --no-audit" "$BARGE" inspect sqlite:shop.db --tables orders --no-audit --format json
check "--tables keeps one table, --no-audit skips the scan" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert [t['name'] for t in d['tables']] == ['orders'], d['tables']
assert not any('abc' in w for w in d['tables'][0]['warnings'])"

# a missing source: exit 2, one line naming it, nothing created
expect_exit 2 "missing source" "$BARGE" inspect sqlite:nosuch.db
check "missing source named" grep -q 'nosuch.db' "$WORK/last.err"
check "missing source not created" [ ! -e nosuch.db ]
expect_exit 2 "missing source (json)" "$BARGE" inspect sqlite:nosuch.db --format json
check "no JSON on stdout for a missing source" [ ! -s "$WORK/last.out" ]
check "still not created" [ ! -e nosuch.db ]
expect_exit 2 "unknown table" "$BARGE" inspect sqlite:shop.db --tables nosuch
finish
