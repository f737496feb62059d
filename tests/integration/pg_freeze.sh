# truncate mode writes a table of one chunk with COPY FREEZE (emptied again
# in the chunk's own transaction): its pages are all-frozen right after the
# copy (pg_visibility), its rows exact. Tables of several chunks, and the
# other modes, are written as usual and never claimed frozen.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pgz_src
pg_fresh pgz_dst
pg_sql pgz_src "
CREATE TABLE small (id bigint PRIMARY KEY, v text);
CREATE TABLE big (id bigint PRIMARY KEY, v text);
INSERT INTO small SELECT g, 's' || g FROM generate_series(1, 3000) g;
INSERT INTO big SELECT g, 'b' || g FROM generate_series(1, 20000) g;
ANALYZE;" >/dev/null
pg_sql pgz_dst "CREATE EXTENSION pg_visibility" >/dev/null

SRC=$(pg_url pgz_src)
DST=$(pg_url pgz_dst)
# pages of the table / of them all-frozen / tuples on all-frozen pages
# that are not frozen (pg_check_frozen: must be none)
pages() { pg_val pgz_dst "SELECT pg_relation_size('$1') / current_setting('block_size')::int"; }
frozen() { pg_val pgz_dst "SELECT all_frozen FROM pg_visibility_map_summary('$1')"; }
wrong() { pg_val pgz_dst "SELECT count(*) FROM pg_check_frozen('$1')"; }
all_frozen() { [ "$(pages "$1")" -gt 0 ] && [ "$(frozen "$1")" = "$(pages "$1")" ] && [ "$(wrong "$1")" = 0 ]; }
none_frozen() { [ "$(frozen "$1")" = 0 ]; }
not_all_frozen() { [ "$(frozen "$1")" -lt "$(pages "$1")" ]; }
exact() { pg_same pgz_src pgz_dst small id && pg_same pgz_src pgz_dst big id; }
copy() { "$BARGE" copy "$SRC" "$DST" --state st.db --jobs 2 --chunk-rows 4000 --no-progress "$@"; }

expect_exit 0 "truncate copy into a new target" copy --mode truncate
check "exact" exact
check "the one-chunk table frozen" all_frozen small
check "the five-chunk table not claimed frozen" none_frozen big

# an existing target with rows: truncated and frozen again
pg_sql pgz_dst "UPDATE small SET v = 'changed' WHERE id <= 10" >/dev/null
check "an update unfreezes pages" not_all_frozen small
expect_exit 0 "truncate re-run" copy --mode truncate --restart
check "truncate re-run exact" exact
check "frozen again" all_frozen small

# the other modes write as usual
pg_fresh pgz_dst
pg_sql pgz_dst "CREATE EXTENSION pg_visibility" >/dev/null
expect_exit 0 "insert copy" copy --restart
check "insert copy exact" exact
check "insert mode not frozen" none_frozen small

finish
