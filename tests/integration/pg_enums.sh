# Enum and domain types on a new PostgreSQL target: a PG -> PG copy into an
# empty database creates the enums and domains the source's columns use
# (arrays of them, a domain over an enum, domain defaults and checks), so
# every column keeps its type exactly and the data is byte-identical.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

pg_fresh pge_src
pg_fresh pge_dst
pg_sql pge_src "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s fine');
CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1 CONSTRAINT posint_check CHECK (VALUE > 0);
CREATE DOMAIN good_mood AS mood CHECK (VALUE <> 'sad');
CREATE DOMAIN short_text AS varchar(8);
CREATE TABLE feel (
	id bigint PRIMARY KEY,
	m mood,
	ms mood[],
	g good_mood,
	n posint,
	s short_text
);
INSERT INTO feel VALUES
	(1, 'sad', '{sad,happy}', 'ok', 3, 'abc'),
	(2, 'it''s fine', '{}', 'happy', 1, NULL),
	(3, NULL, '{NULL,ok}', NULL, 42, 'eight ch');
" >/dev/null

types() { pg_val "$1" "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'feel'::regclass AND attnum > 0 ORDER BY attnum"; }
typedefs() { pg_val "$1" "
	SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
		FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY 1;
	SELECT typname || ' ' || format_type(typbasetype, typtypmod) || ' ' || typnotnull || ' ' || coalesce(typdefault, '')
		FROM pg_type WHERE typtype = 'd' AND typnamespace = 'public'::regnamespace ORDER BY 1;
	SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid <> 0 ORDER BY 1;"; }

expect_exit 0 "copy into an empty database" "$BARGE" copy "$(pg_url pge_src)" "$(pg_url pge_dst)" --state st.db --no-progress
check "column types kept exactly" [ "$(types pge_src)" = "$(types pge_dst)" ]
check "enum labels, domains and their checks as on the source" [ "$(typedefs pge_src)" = "$(typedefs pge_dst)" ]
check "data byte-identical" pg_same pge_src pge_dst feel id
refused() { ! pg_sql "$@" >/dev/null 2>&1; }
check "the domain check holds on the target" refused pge_dst "INSERT INTO feel (id, n) VALUES (9, -1)"
# a second copy into another table set of the same target: types exist, kept
expect_exit 0 "copy again (--restart, upsert)" "$BARGE" copy "$(pg_url pge_src)" "$(pg_url pge_dst)" --state st.db --restart --mode upsert --no-progress
check "still exact" pg_same pge_src pge_dst feel id
finish
