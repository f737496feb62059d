# examples/copy_verify.c, the public API's example: it copies a small
# SQLite source to a new SQLite target, prints the rows copied per table and
# "verify: equal", and exits 0; with a difference planted in the target,
# --verify-only says "not equal" and exits 1; a bad URL is exit 2 with one
# line on stderr.
. "$(dirname "$0")/lib.bash"
: "${COPY_VERIFY:?COPY_VERIFY must point at the copy_verify example}"

sqlite3 src.db <<'SQL'
CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, born DATE);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
INSERT INTO people SELECT i, 'person ' || i, date('2000-01-01', '+' || i || ' days') FROM n;
CREATE TABLE tags(person INTEGER NOT NULL REFERENCES people(id), tag TEXT NOT NULL,
                  PRIMARY KEY (person, tag));
INSERT INTO tags SELECT id, 't' || (id % 3) FROM people WHERE id % 5 = 0;
SQL

expect_exit 0 "copy and verify" "$COPY_VERIFY" sqlite:src.db sqlite:dst.db --state st.db
check "rows copied: people" grep -qx 'copied people: 250 rows' "$WORK/last.out"
check "rows copied: tags" grep -qx 'copied tags: 50 rows' "$WORK/last.out"
check "copy done" grep -qx 'copy: done' "$WORK/last.out"
check "verify equal" grep -qx 'verify: equal' "$WORK/last.out"
check "nothing on stderr" [ ! -s "$WORK/last.err" ]
check "the target has the rows" [ "$(sqlite3 dst.db 'SELECT count(*) FROM people')" = 250 ]

# a difference planted in the target: not equal, exit 1, the table named
sqlite3 dst.db "UPDATE people SET name = 'someone else' WHERE id = 42; DELETE FROM tags WHERE person = 10;"
expect_exit 1 "verify-only finds the difference" "$COPY_VERIFY" sqlite:src.db sqlite:dst.db --verify-only
check "verify not equal" grep -qx 'verify: not equal' "$WORK/last.out"
check "people changed" grep -qx 'verified people: different (missing 0, extra 0, changed 1)' "$WORK/last.out"
check "tags missing" grep -qx 'verified tags: different (missing 1, extra 0, changed 0)' "$WORK/last.out"
check "no copy with --verify-only" bash -c "! grep -q '^copied' '$WORK/last.out'"

# the copy again resumes a finished run (nothing to copy) and still verifies
# the planted difference: exit 1
expect_exit 1 "copy over a different target is not equal" "$COPY_VERIFY" sqlite:src.db sqlite:dst.db --state st.db
check "still not equal" grep -qx 'verify: not equal' "$WORK/last.out"

# a source that is no URL: exit 2, the library's one line on stderr
expect_exit 2 "bad URL" "$COPY_VERIFY" nosuch sqlite:x.db
check "one line naming the URL" bash -c "[ \$(wc -l < '$WORK/last.err') = 1 ] && grep -q nosuch '$WORK/last.err'"
finish
