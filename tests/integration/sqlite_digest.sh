# The verify fast path in SQLite: barge_digest(), the aggregate registered
# from C on barge's SQLite handles (src/drivers/sqlite/digest.c), agrees
# with barge's C encoder on every edge value the SQLite value tests use.
# A database is compared with itself, one row per chunk, one side digested
# in SQLite and the other streamed and hashed in C (BARGE_NO_FASTPATH=
# target / =source, the fast-path form PostgreSQL also computes): any
# disagreement shows as a differing chunk. The canonical (native) form is
# pinned the same way in tests/unit/test_sqlite.c. Then one changed value
# per table is found with both sides in the database.
. "$(dirname "$0")/lib.bash"

sqlite3 src.db < "$(dirname "$0")/fixtures/edge_values.sql"
sqlite3 src.db <<'SQL'
INSERT INTO v VALUES
 (7, 2, -0.0, 'a|b', x'7c', -0.0, '1969-12-31', '1969-12-31 23:59:59.999999', '-001.50'),
 (8, 3, 3, ' ', zeroblob(70000), 9223372036854775807, '1970-01-01', '1970-01-01T00:00:00', 1e-7),
 (9, 4, 9007199254740993, 'x', NULL, '', '2000-02-29', '2000-02-29 12:00', '100'),
 (10, 5, 1e308 * 10, replace(hex(zeroblob(40000)), '0', 'ab'), NULL, 1e308 * 10, NULL, NULL, 1e308 * 10),
 (11, 6, -1e308 * 10, 'NaN?', NULL, -1e308 * 10, NULL, NULL, 12345678901234567890123);
CREATE TABLE ty(id INTEGER PRIMARY KEY, bo BOOLEAN, tm TIME, tz TIMESTAMPTZ, u UUID, ub UUID, j JSON, dc DECIMAL(30,10), f FLOAT, vc VARCHAR(5));
INSERT INTO ty VALUES
 (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (2, 0, '00:00:00', '2024-06-01 12:00:00+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', x'00000000000000000000000000000000', '{}', '0.0000000000', 0, ''),
 (3, 1, '23:59:59.999999', '2024-06-01 06:30:00Z', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', x'ffffffffffffffffffffffffffffffff', '{"b":1,"a":[1.0,2e3,"\u00e9"]}', '-001.50', -0.0, 'żółć'),
 (4, 1, '12:00', '2024-06-01 04:30:00.000001-02:00', '00000000-0000-0000-0000-000000000000', NULL, ' { "b" : 1 , "a" : [ 1 , 2000 , "é" ] } ', 100, 1e-320, 'a '),
 (5, 0, '00:00:00.5', '1970-01-01 00:00:00+00:00', NULL, NULL, '0.10000000000000001', 12345678901234567890.0123456789, 1.7976931348623157e308, ' '),
 (6, NULL, NULL, '1969-12-31 23:59:59.999999+00:00', NULL, NULL, 'not json {', 3, 0.30000000000000004, 'x'),
 (7, 1, NULL, NULL, NULL, NULL, '"\ud83d\ude00 tab\t"', 1e-7, 2, NULL),
 (8, 0, NULL, NULL, NULL, NULL, '[1e400, -0, 0.0, 1E0, 10e-1, null, true]', NULL, NULL, NULL),
 (9, 1, NULL, NULL, NULL, NULL, 7, NULL, NULL, NULL),
 (10, 0, NULL, NULL, NULL, NULL, 1.5, NULL, NULL, NULL);
SQL
TABLES=v,ty,ck,nokey
fastpath_agrees "SQLite's and C's" sqlite:src.db $TABLES --no-progress

# Both sides in the database (the canonical form): a copy of the file is equal, and one
# changed value per table is found and named.
cp src.db dst.db
expect_exit 0 "in-database, both sides: equal" "$BARGE" verify sqlite:src.db sqlite:dst.db --tables $TABLES --report eq.json --in-database --no-progress
check "both sides in the database" report_py eq.json "all(x['digests'] == 'in-database' and x['equal'] for x in r['tables'])"
sqlite3 dst.db "UPDATE v SET r = 0.10000000000000002 WHERE id = 5; UPDATE ty SET j = '{\"a\":[1,2000,\"é\"],\"b\":2}' WHERE id = 3;
	UPDATE ck SET v = 8 WHERE a = 'a' AND b = ''; DELETE FROM nokey WHERE rowid = (SELECT max(rowid) FROM nokey WHERE x = 'dup');"
expect_exit 1 "in-database digests see one change per table" "$BARGE" verify sqlite:src.db sqlite:dst.db --tables $TABLES --report ch.json --in-database --chunk-rows 4 --no-progress
check "each change found and named" report_py ch.json "t['v']['changed'] == 1 and t['ty']['changed'] == 1 and t['ck']['changed'] == 1 and t['nokey']['missing'] == 1 and all(x['digests'] == 'in-database' for x in r['tables']) and t['v']['chunks_differing'] == 1"
check "the changed column named" report_py ch.json "t['ty']['differences'][0]['columns'] == ['j'] and t['v']['differences'][0]['key'] == {'id': 5}"
# JSON written differently but canonically equal is equal in the database
sqlite3 dst.db "UPDATE ty SET j = '{ \"b\":1, \"a\":[1, 2000.0, \"\u00e9\"] }' WHERE id = 3"
expect_exit 0 "JSON respelled: still equal in the database" "$BARGE" verify sqlite:src.db sqlite:dst.db --tables ty --report js.json --in-database --no-progress
check "JSON respelled: no chunk differed" report_py js.json "t['ty']['chunks_differing'] == 0"

# A value its column cannot hold fails the in-database digest as it fails
# the streamed read (exit 2, the column named).
sqlite3 bad.db "CREATE TABLE b(id INTEGER PRIMARY KEY, d DATE); INSERT INTO b VALUES (1, 'not a date');"
expect_exit 2 "a bad value: trouble, in the database" "$BARGE" verify sqlite:bad.db sqlite:bad.db --in-database --no-progress
check "the column is named" grep -q "column d" "$WORK/last.err"
finish
