# Every SQLite value class round-trips exactly through `barge copy`:
# 64-bit integers, floats bit for bit (subnormals, extremes), text with any
# Unicode and with NUL bytes, blobs with NUL bytes, NULL distinct from empty,
# untyped columns holding mixed classes, composite text keys in binary
# order, and a keyless table with duplicate rows.
. "$(dirname "$0")/lib.bash"

sqlite3 src.db < "$(dirname "$0")/fixtures/edge_values.sql"
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
