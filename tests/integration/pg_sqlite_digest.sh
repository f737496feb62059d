# SQLite <-> PostgreSQL with --in-database: SQLite's registered digest
# (fast-path form) and PostgreSQL's SQL digest agree on a copied shop, each
# side in its own database; a changed row is found the same way.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

py() { python3 -c "import json,sys; r=json.load(open('$1')); t={x['table']:x for x in r['tables']}; sys.exit(0 if ($2) else 1)"; }

"$MKSHOP" shop.db --customers 300 --orders 900 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
pg_fresh pgsd
expect_exit 0 "SQLite -> PG" "$BARGE" copy sqlite:shop.db "$(pg_url pgsd)" --state st.db --no-progress
T=customers,orders,order_items,audit_log
expect_exit 0 "in-database on both engines: equal" "$BARGE" verify sqlite:shop.db "$(pg_url pgsd)" --tables $T --in-database --chunk-rows 100 --report eq.json --no-progress
check "both sides digested in their databases, no chunk differed" py eq.json "all(x['digests'] == 'in-database' and x['chunks_differing'] == 0 and x['source_rows'] > 0 for x in r['tables'])"
pg_sql pgsd "UPDATE orders SET total = total + 0.01 WHERE id = 42" >/dev/null
expect_exit 1 "a changed total is found" "$BARGE" verify sqlite:shop.db "$(pg_url pgsd)" --tables orders --in-database --chunk-rows 100 --report ch.json --no-progress
check "found in the database, named" py ch.json "t['orders']['digests'] == 'in-database' and t['orders']['changed'] == 1 and t['orders']['differences'][0]['columns'] == ['total'] and t['orders']['chunks_differing'] == 1"
finish
