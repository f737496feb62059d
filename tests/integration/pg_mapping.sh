# Issue 5's references and key remapping into a PostgreSQL target, from
# SQLite and from PostgreSQL: a three-level hierarchy (zcust <- yorder <-
# xitem), children of rejected, filtered-out or missing parents rejected
# with that reason, the rest loaded, foreign keys rewritten two levels down
# through barge_keymap; a reference the parent's type cannot hold ('abc'
# for an integer key) is a reject, not a failed chunk.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"
. "$HERE/fixtures/legacy_shop.bash"

q() { sqlite3 "$@"; }
legacy_shop src.db 2400 7000
legacy_wants src.db
# The plan NAME.yaml (state NAME-state.db) from the SQLite or the
# PostgreSQL source (FROM sqlite or pg) into DB, made afresh; the new keys
# KEY... (legacy_plan's).
pg_plan() { # pg_plan DB FROM NAME [KEY...]
	local db=$1 from=$2 name=$3 src="sqlite:src.db"
	shift 3
	pg_fresh "$db"
	[ "$from" = pg ] && src=$(pg_url pgsrc)
	legacy_plan "$src" "$(pg_url "$db")" "$name-state.db" \
		"{chunk_rows: 500, batch_rows: 300, jobs: 3, mode: upsert}" "$@" > "$name.yaml"
}

# the same rows in a PostgreSQL source
pg_fresh pgsrc
pg_sql pgsrc "CREATE TABLE zcust(id bigint PRIMARY KEY, email text, since text);
CREATE TABLE yorder(id bigint PRIMARY KEY, cust_id bigint, total numeric);
CREATE TABLE xitem(id bigint PRIMARY KEY, order_id bigint, sku text);" >/dev/null
for t in zcust yorder xitem; do
	q -csv src.db "SELECT * FROM $t" | "${PSQL[@]}" -d pgsrc -c "\\copy $t FROM STDIN (FORMAT csv)"
done

for from in sqlite pg; do
	db=map_$from
	pg_plan $db $from $from
	expect_exit 3 "$from->pg: run with rejects" "$BARGE" run $from.yaml --no-progress
	check "$from->pg: customers filtered and rejected out" [ "$(pg_val $db "SELECT count(*) FROM customers")" = "$want_cust" ]
	check "$from->pg: orders of missing, filtered, rejected customers out" [ "$(pg_val $db "SELECT count(*) FROM orders")" = "$want_orders" ]
	check "$from->pg: items of rejected orders out" [ "$(pg_val $db "SELECT count(*) FROM xitem")" = "$want_items" ]
	check "$from->pg: every item written or rejected" [ $(( $(pg_val $db "SELECT count(*) FROM xitem") + $(q $from-state.db "SELECT count(*) FROM rejects WHERE table_name='xitem'") )) = 7000 ]
	check "$from->pg: an orphan's reason" [ "$(q $from-state.db "SELECT message FROM rejects WHERE table_name='yorder' AND source_key='[40]'")" = "column cust_id: references zcust.id = 999, which is not in the target" ]
	check "$from->pg: a rejected parent's child" [ "$(q $from-state.db "SELECT rule || ': ' || message FROM rejects WHERE table_name='yorder' AND source_key='[9]'")" = "references: column cust_id: references zcust.id = 10, which is not in the target" ]
	check "$from->pg: a filtered-out parent's child" [ "$(q $from-state.db "SELECT rule FROM rejects WHERE table_name='yorder' AND source_key='[14]'")" = "references" ]
	check "$from->pg: a NULL reference passes" [ "$(pg_val $db "SELECT count(*) FROM orders WHERE legacy_id = 41 AND cust_id IS NULL")" = 1 ]
	check "$from->pg: cust_id is the customer's new uuid key" [ "$(pg_val $db "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.cust_id")" = "$(pg_val $db "SELECT count(*) FROM orders WHERE cust_id IS NOT NULL")" ]
	check "$from->pg: ... of the same customer as in the source" [ "$(pg_val $db "SELECT string_agg(o.legacy_id || ':' || c.legacy_id, ',' ORDER BY o.legacy_id) FROM orders o JOIN customers c ON c.id = o.cust_id")" = "$(q src.db "SELECT group_concat(id || ':' || cust_id, ',') FROM (SELECT id, cust_id FROM yorder WHERE cust_id IN ($custs_in) ORDER BY id)")" ]
	check "$from->pg: order_id rewritten to the order's new key (level 2)" [ "$(pg_val $db "SELECT count(*) FROM xitem i JOIN orders o ON o.id = i.order_id")" = "$want_items" ]
	check "$from->pg: the key map" [ "$(pg_val $db "SELECT string_agg(table_name || '=' || n, ',' ORDER BY table_name) FROM (SELECT table_name, count(*) n FROM barge_keymap GROUP BY 1) s")" = "customers=$want_cust,orders=$want_orders" ]
	expect_exit 3 "$from->pg: re-run --restart" "$BARGE" run $from.yaml --no-progress --restart
	check "$from->pg: re-run duplicates nothing" [ "$(pg_val $db "SELECT (SELECT count(*) FROM xitem) || '/' || (SELECT count(*) FROM barge_keymap)")" = "$want_items/$((want_cust + want_orders))" ]
done

# the same with sequence keys (three workers writing at once: one chunk of
# a numbered table at a time), from SQLite and from PostgreSQL
for from in sqlite pg; do
	db=seq_$from
	pg_plan $db $from seq-$from "{sequence: {from: id}}"
	expect_exit 3 "$from->pg sequence: run" "$BARGE" run seq-$from.yaml --no-progress
	check "$from->pg sequence: customers numbered densely" [ "$(pg_val $db "SELECT min(id) || '-' || max(id) || '/' || count(DISTINCT id) FROM customers")" = "1-$want_cust/$want_cust" ]
	check "$from->pg sequence: orders numbered densely" [ "$(pg_val $db "SELECT min(id) || '-' || max(id) || '/' || count(DISTINCT id) FROM orders")" = "1-$want_orders/$want_orders" ]
	check "$from->pg sequence: cust_id is the customer's new key" [ "$(pg_val $db "SELECT string_agg(o.legacy_id || ':' || c.legacy_id, ',' ORDER BY o.legacy_id) FROM orders o JOIN customers c ON c.id = o.cust_id")" = "$(q src.db "SELECT group_concat(id || ':' || cust_id, ',') FROM (SELECT id, cust_id FROM yorder WHERE cust_id IN ($custs_in) ORDER BY id)")" ]
	check "$from->pg sequence: order_id is the order's new key (level 2)" [ "$(pg_val $db "SELECT count(*) FROM xitem i JOIN orders o ON o.id = i.order_id")" = "$want_items" ]
	expect_exit 0 "$from->pg sequence: verify equal through barge_keymap" "$BARGE" verify seq-$from.yaml --chunk-rows 300
	pg_val $db "SELECT legacy_id || ' ' || id FROM orders ORDER BY 1" > seq1.txt
	expect_exit 3 "$from->pg sequence: re-run --restart" "$BARGE" run seq-$from.yaml --no-progress --restart
	pg_val $db "SELECT legacy_id || ' ' || id FROM orders ORDER BY 1" > seq2.txt
	check "$from->pg sequence: re-run keeps the keys" cmp -s seq1.txt seq2.txt
	check "$from->pg sequence: barge_keyseq" [ "$(pg_val $db "SELECT last_value FROM barge_keyseq WHERE table_name = 'orders'")" = "$want_orders" ]
done

# a self reference into PostgreSQL, managers after their reports (later
# in the chunk or in later chunks), the key remapped to uuid_v5
q src.db "CREATE TABLE emp(id INTEGER PRIMARY KEY, manager_id INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
INSERT INTO emp SELECT i, CASE WHEN i = 600 THEN NULL WHEN i % 97 = 0 THEN 99999
  ELSE i + 1 + ((i * 7919) % (600 - i)) END FROM n;"
want_emp=$(q src.db "WITH RECURSIVE ok(id) AS (SELECT id FROM emp WHERE manager_id IS NULL
  UNION SELECT e.id FROM emp e JOIN ok ON e.manager_id = ok.id) SELECT count(*) FROM ok")
pg_fresh selfref
cat > selfref.yaml <<YAML
source: sqlite:src.db
target: $(pg_url selfref)
state: selfref-state.db
defaults: {chunk_rows: 100, batch_rows: 30, jobs: 3}
tables:
  - name: emp
    columns:
      id: {to: legacy_id}
      manager_id: {references: emp.id}
    add:
      id: {uuid_v5: {namespace: 6ba7b811-9dad-11d1-80b4-00c04fd430c8, from: id}}
YAML
expect_exit 3 "self reference -> pg: run" "$BARGE" run selfref.yaml --no-progress
check "self reference -> pg: the rows with a chain of managers" [ "$(pg_val selfref "SELECT count(*) FROM emp")" = "$want_emp" ]
check "self reference -> pg: the others rejected" [ "$(q selfref-state.db "SELECT count(*) FROM rejects")" = "$((600 - want_emp))" ]
check "self reference -> pg: manager_id is the manager's new key" [ "$(pg_val selfref "SELECT count(*) FROM emp e JOIN emp m ON m.id = e.manager_id")" = "$((want_emp - 1))" ]

# a reference the parent's key type cannot hold: a reject, the chunk loads
# (a text column in the child, an integer key in the parent)
q bad.db "CREATE TABLE yorder(id INTEGER PRIMARY KEY, cust_id TEXT, total NUMERIC);
INSERT INTO yorder VALUES (1, '1', 1), (2, 'abc', 2), (3, '99999999999', 3), (4, '1', 4);"
pg_fresh badpg
pg_sql badpg "CREATE TABLE zcust(id integer PRIMARY KEY, email text, since text);
INSERT INTO zcust VALUES (1, 'a@b.c', '2020');" >/dev/null
printf 'source: sqlite:bad.db\ntarget: %s\nstate: bad-state.db\ntables:\n  - name: yorder\n    columns:\n      cust_id: {references: zcust.id}\n' "$(pg_url badpg)" > bad.yaml
expect_exit 3 "bad reference values: rejects, exit 3" "$BARGE" run bad.yaml --no-progress
check "bad reference values: the good rows loaded" [ "$(pg_val badpg "SELECT string_agg(id::text, ',' ORDER BY id) FROM yorder")" = "1,4" ]
check "bad reference values: both rejected as references" [ "$(q bad-state.db "SELECT group_concat(source_key || rule) FROM (SELECT * FROM rejects ORDER BY source_key)")" = "[2]references,[3]references" ]
finish
