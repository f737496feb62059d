# Every SQLite value class round-trips exactly through `barge copy`:
# 64-bit integers, floats bit for bit (subnormals, extremes), text with any
# Unicode and with NUL bytes, blobs with NUL bytes, NULL distinct from empty,
# untyped columns holding mixed classes, composite text keys in binary
# order, and a keyless table with duplicate rows.
. "$(dirname "$0")/lib.bash"

sqlite3 src.db <<'SQL'
CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, anyv, d DATE, ts DATETIME, n NUMERIC(12,2));
INSERT INTO v VALUES
 (1, 9223372036854775807, 4.9406564584124654e-324, 'ünïcødé 😀 漢字 e' || char(769), x'00ff00', 1, '2024-02-29', '2024-02-29 23:59:59', 12.34),
 (2, -9223372036854775808, 1.7976931348623157e308, '', x'', 2.5, '0001-01-01', '1970-01-01 00:00:00.123456', -0.01),
 (3, 0, -2.2250738585072014e-308, CAST(x'61006263' AS TEXT), NULL, 'text', '9999-12-31', '2038-01-19 03:14:08', 99999999999.99),
 (4, NULL, NULL, NULL, NULL, x'deadbeef', NULL, NULL, NULL),
 (5, -1, 0.1, ' trailing ', x'0000', NULL, '2000-01-01', '2000-01-01 00:00:00.500', 0),
 (6, 1, 1e-320, 'a"b''c\d', x'41', -7, '1999-12-31', '1999-12-31 23:59:59.999', 5);
CREATE TABLE ck(a TEXT NOT NULL, b TEXT NOT NULL, v INTEGER, PRIMARY KEY(a, b));
INSERT INTO ck VALUES ('a|b','c',1), ('a','b|c',2), ('B','x',3), ('a','x',4), ('é','y',5), ('',' ',6), ('a', '',7);
CREATE TABLE nokey(x TEXT, y INTEGER);
INSERT INTO nokey VALUES ('dup', 1), ('dup', 1), ('dup', 1), (NULL, NULL), (NULL, NULL), ('', 0);
SQL
for i in $(seq 1 200); do echo "INSERT INTO ck VALUES ('k$((i % 17))', 'v$i', $i);"; done | sqlite3 src.db

expect_exit 0 "copy" "$BARGE" copy sqlite:src.db sqlite:dst.db --state st.db --chunk-rows 7 --jobs 2 --no-progress
for t in v ck nokey; do check "$t exact" same_table src.db dst.db "$t"; done
# bit patterns of the floats, and the bytes of text and blobs
q="SELECT id, hex(CAST(r AS BLOB)), printf('%!.17g', r), hex(t), length(t), hex(b), typeof(b), hex(anyv), typeof(anyv), ts, d, quote(n) FROM v ORDER BY id"
check "floats, text and blob bytes" [ "$(sqlite3 src.db "$q")" = "$(sqlite3 dst.db "$q")" ]
check "NUL inside text kept" [ "$(sqlite3 dst.db "SELECT hex(CAST(t AS BLOB)) FROM v WHERE id=3")" = 61006263 ]
check "empty blob is not NULL" [ "$(sqlite3 dst.db "SELECT typeof(b), length(b) FROM v WHERE id=2")" = "blob|0" ]
check "duplicates kept" [ "$(sqlite3 dst.db "SELECT count(*) FROM nokey WHERE x='dup'")" = 3 ]
check "ck chunked by keyset" [ "$(sqlite3 st.db "SELECT count(*) FROM units WHERE table_name='ck'")" -gt 20 ]
finish
