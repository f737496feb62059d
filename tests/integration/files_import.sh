# Files -> SQLite (issue 13, docs/files.md "Reading files"): one CSV,
# a glob, dialects (BOM, CRLF and lone CR, ';', backslash escapes,
# latin1, no header), malformed records as rejects with file and line,
# byte-range chunks at record boundaries (a quoted line break never cut),
# --chunk N, and bad input: truncated gzip/zstd, a NUL byte, a 10 MB
# field, compression detected from content not name.
. "$(dirname "$0")/lib.bash"

# ---- dialects ----
printf '\xef\xbb\xbfid;name;note\r\n1;"semi;colon";a\r\n2;"back\\"slash";\r3;plain;""\n' >d.csv
expect_exit 0 "bom, crlf/cr, ';', backslash escape" "$BARGE" copy \
	'file:d.csv?delimiter=;&escape=%5C' sqlite:d.db --state d.st --no-progress
check "bom stripped from the first column's name" [ "$(sqlite3 d.db "SELECT count(*) FROM d WHERE id = 1")" = 1 ]
check "quoted delimiter" [ "$(sqlite3 d.db "SELECT name FROM d WHERE id = 1")" = "semi;colon" ]
check "backslash escape" [ "$(sqlite3 d.db "SELECT name FROM d WHERE id = 2")" = 'back"slash' ]
check "unquoted empty is NULL, \"\" the empty string" \
	[ "$(sqlite3 d.db "SELECT quote(note) FROM d ORDER BY id" | tr '\n' ' ')" = "'a' NULL '' " ]
printf '1,caf\xe9\n2,na\xefve\n' >l.csv
expect_exit 0 "latin1, no header" "$BARGE" copy 'file:l.csv?encoding=latin1&header=false' sqlite:l.db \
	--state l.st --no-progress
check "latin1 decoded to UTF-8" [ "$(sqlite3 l.db "SELECT column2 FROM l WHERE column1 = 1")" = "café" ]

# ---- rejects: file, line, reason; the good rows load ----
printf 'id,v\n1,ok\n2,"unterminated\n' >bad_tail.csv
printf 'id,v\n1,a\n2,b,extra\n3,"x"y\n4,\xff\xfe\n5,"multi\nline"\n6,after\n' >bad.csv
expect_exit 3 "malformed records are rejects" "$BARGE" copy file:bad.csv sqlite:bad.db --state bad.st --no-progress
check "good rows load (1, 5, 6)" [ "$(sqlite3 bad.db "SELECT group_concat(id) FROM (SELECT id FROM bad ORDER BY id)")" = "1,5,6" ]
rej=$(sqlite3 bad.st "SELECT message FROM rejects ORDER BY id")
check "wrong field count, with its line" grep -q 'bad.csv line 3: 3 fields, the table has 2 columns' <<<"$rej"
check "text after a closing quote" grep -q 'bad.csv line 4: text after a closing quote' <<<"$rej"
check "invalid UTF-8" grep -q "bad.csv line 5: column 'v': not valid UTF-8" <<<"$rej"
check "three rejects" [ "$(sqlite3 bad.st "SELECT count(*) FROM rejects")" = 3 ]
expect_exit 3 "an unterminated quote at the end" "$BARGE" copy file:bad_tail.csv sqlite:bt.db --state bt.st --no-progress
check "unterminated quote named" grep -q 'line 3: an unterminated quote' <<<"$(sqlite3 bt.st "SELECT message FROM rejects")"

# ---- byte ranges: a quoted line break never cut; --chunk N ----
awk 'BEGIN { print "id,txt"; for (i = 0; i < 20000; i++)
	if (i % 3 == 0) printf "%d,\"a\nb,%d\"\n", i, i; else printf "%d,plain%d\n", i, i }' >big.csv
expect_exit 0 "one csv in byte ranges" "$BARGE" copy file:big.csv sqlite:big.db --state big.st \
	--chunk-rows 4096 --no-progress
check "several chunks of one file" [ "$(sqlite3 big.st "SELECT count(*) FROM units")" -ge 4 ]
check "every row once" [ "$(sqlite3 big.db "SELECT count(*), count(DISTINCT id), sum(id) FROM big")" = "20000|20000|199990000" ]
check "quoted line breaks intact" [ "$(sqlite3 big.db "SELECT count(*) FROM big WHERE txt = 'a' || char(10) || 'b,' || id")" = 6667 ]
"$BARGE" init file:big.csv sqlite:big.db >plan.yaml 2>/dev/null
sqlite3 big.db "DELETE FROM big WHERE rowid IN (SELECT rowid FROM big ORDER BY rowid LIMIT 100 OFFSET 8192)"
expect_exit 0 "run --chunk 2 again" "$BARGE" run plan.yaml --state big.st --table big --chunk 2 --no-progress
check "--chunk 2: every row once again" [ "$(sqlite3 big.db "SELECT count(*), count(DISTINCT id) FROM big")" = "20000|20000" ]
expect_exit 0 "verify the csv against the database" "$BARGE" verify file:big.csv sqlite:big.db --state big.st
check "verify file/db: equal" grep -q "^equal" "$WORK/last.out"

# ---- a glob of compressed files, compression from content ----
mkdir -p g
seq 1 5000 | awk 'BEGIN { print "id,v" } { print $1 ",v" $1 }' | gzip >g/a.csv.gz
seq 5001 9000 | awk 'BEGIN { print "id,v" } { print $1 ",v" $1 }' | zstd -q >g/b.csv.gz
expect_exit 0 "a glob, zstd named .gz" "$BARGE" copy 'file:g/*.csv.gz' sqlite:g.db --state g.st --no-progress
check "glob: one chunk per compressed file" [ "$(sqlite3 g.st "SELECT count(*) FROM units")" = 2 ]
check "glob: rows" [ "$(sqlite3 g.db "SELECT count(*), count(DISTINCT id), sum(id) FROM g")" = "9000|9000|40504500" ]

# ---- bad input: one clear line, never a crash, hang or short load ----
gzip -c big.csv | head -c 20000 >trunc.csv.gz
expect_exit 1 "a truncated gzip fails its chunk" "$BARGE" copy file:trunc.csv.gz sqlite:t.db --state t.st --no-progress
check "truncated gzip named with its offset" grep -q 'trunc.csv.gz is a truncated or damaged gzip stream (at byte' "$WORK/last.out" "$WORK/last.err"
check "truncated gzip: nothing loaded" [ "$(sqlite3 t.db "SELECT count(*) FROM trunc" 2>/dev/null || echo 0)" = 0 ]
zstd -q -c big.csv | head -c 30000 >trunc.csv.zst
expect_exit 1 "a truncated zstd fails its chunk" "$BARGE" copy file:trunc.csv.zst sqlite:t2.db --state t2.st --no-progress
check "truncated zstd named" grep -q 'trunc.csv.zst is a truncated or damaged zstd stream' "$WORK/last.out" "$WORK/last.err"
# a NUL byte is data in CSV (SQLite text holds it; barge's CSV writes it);
# a raw one in a JSON line is a reject (JSON spells it \u0000)
printf 'id,v\n1,a\n2,b\x00c\n3,"d\x00"\n4,e\n' >nul.csv
expect_exit 0 "NUL bytes in CSV are data" "$BARGE" copy file:nul.csv sqlite:nul.db --state nul.st --no-progress
check "NUL: every row, the byte kept" [ "$(sqlite3 nul.db "SELECT count(*), sum(instr(CAST(v AS BLOB), x'00') > 0) FROM nul")" = "4|2" ]
printf '{"id":1}\n{"id":2,"v":"a\x00"}\n{"id":3,"v":"b\\u0000"}\n' >nulj.jsonl
expect_exit 3 "a raw NUL in a JSON line is a reject" "$BARGE" copy file:nulj.jsonl sqlite:nulj.db --state nulj.st --no-progress
check "NUL: JSON line 2 rejected and named" grep -q 'nulj.jsonl line 2: a raw NUL byte' <<<"$(sqlite3 nulj.st "SELECT message FROM rejects")"
check "NUL: JSON rows 1 and 3 load" [ "$(sqlite3 nulj.db "SELECT group_concat(id) FROM nulj")" = "1,3" ]
{ echo id,v; printf '1,"'; head -c 10485760 /dev/zero | tr '\0' 'x'; printf '"\r\n2,b\r3,c\n'; } >wide.csv
expect_exit 0 "a 10 MB field, mixed line endings" "$BARGE" copy file:wide.csv sqlite:w.db --state w.st --no-progress
check "10 MB field whole" [ "$(sqlite3 w.db "SELECT length(v) FROM wide WHERE id = 1")" = 10485760 ]
check "mixed endings: three rows" [ "$(sqlite3 w.db "SELECT count(*) FROM wide")" = 3 ]
finish
