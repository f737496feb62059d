# A state store of an older schema is upgraded by the barge command that
# opens it, its runs kept, and resumes and verifies as before; one of a
# newer schema is refused with one line, exit 2, the file left as it was.
# Older files are made by this barge, then taken back to what the older
# schema had: version 1 had no verify_results and no rejects_unit index,
# version 2 (as first shipped) no rejects_unit index.
. "$(dirname "$0")/lib.bash"

sqlite3 src.db "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT);
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
	INSERT INTO people SELECT i, 'p' || i FROM n;"
objects() { sqlite3 "$1" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
	WHERE name IN ('verify_results', 'rejects_unit') ORDER BY name)"; }

expect_exit 0 "a copy makes a store" "$BARGE" copy sqlite:src.db sqlite:dst.db --state st.db --chunk-rows 100
current=$(sqlite3 st.db "PRAGMA user_version")
check "a new store is version 3" [ "$current" = 3 ]
check "with everything" [ "$(objects st.db)" = "rejects_unit verify_results" ]
cp st.db base.db

for from in 1 2; do
	cp base.db v$from.db
	case $from in
	1) sqlite3 v$from.db "DROP TABLE verify_results; DROP INDEX rejects_unit; PRAGMA user_version = 1" ;;
	2) sqlite3 v$from.db "DROP INDEX rejects_unit; PRAGMA user_version = 2" ;;
	esac
	expect_exit 0 "status opens a version $from store" "$BARGE" status --state v$from.db
	check "v$from: its run is shown" grep -q "done" "$WORK/last.out"
	check "v$from: upgraded to $current" [ "$(sqlite3 v$from.db "PRAGMA user_version")" = "$current" ]
	check "v$from: what the newer schema adds is there" [ "$(objects v$from.db)" = "rejects_unit verify_results" ]
	check "v$from: runs and units kept" [ "$(sqlite3 v$from.db "SELECT count(*) FROM runs") $(sqlite3 v$from.db "SELECT count(*) FROM units WHERE status = 'done'")" = "1 5" ]
	check "v$from: same integrity" [ "$(sqlite3 v$from.db "PRAGMA integrity_check")" = ok ]
	# the upgraded store works: the copy resumes (nothing to do), verify records
	expect_exit 0 "v$from: copy again resumes" "$BARGE" copy sqlite:src.db sqlite:dst.db --state v$from.db --chunk-rows 100
	check "v$from: resumed, not started over" grep -q "resumed" "$WORK/last.out"
	expect_exit 0 "v$from: verify against the state" "$BARGE" verify --against-state --state v$from.db sqlite:dst.db
	check "v$from: verify recorded" [ "$(sqlite3 v$from.db "SELECT count(*) FROM verify_results")" -ge 1 ]
done

# the upgrade happens with copy as well (not only status)
cp base.db c1.db
sqlite3 c1.db "DROP TABLE verify_results; DROP INDEX rejects_unit; PRAGMA user_version = 1"
expect_exit 0 "copy opens a version 1 store" "$BARGE" copy sqlite:src.db sqlite:dst.db --state c1.db --chunk-rows 100
check "copy upgraded it" [ "$(sqlite3 c1.db "PRAGMA user_version")" = "$current" ]

# newer than this barge: refused, one line, the file untouched
cp base.db new.db
newer=$((current + 1))
sqlite3 new.db "PRAGMA user_version = $newer"
before=$(md5sum < new.db)
for cmd in "status --state new.db" "copy sqlite:src.db sqlite:other.db --state new.db" \
	"verify --against-state --state new.db sqlite:dst.db" "rejects --state new.db"; do
	expect_exit 2 "newer store refused: barge $cmd" "$BARGE" $cmd
	check "one line: $cmd" [ "$(wc -l < "$WORK/last.err")" = 1 ]
	check "it says why and what to do: $cmd" grep -qF "state file 'new.db' has schema version $newer, newer than this barge reads ($current); use a newer barge" "$WORK/last.err"
done
check "the newer store is unchanged" [ "$(md5sum < new.db)" = "$before" ]
check "no target made from a refused store" [ ! -e other.db ]
finish
