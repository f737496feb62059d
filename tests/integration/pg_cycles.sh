# Foreign-key cycles (issue 5: "cycles are reported and loaded with
# deferred constraints where the engine allows"): a <-> b, b -> b (a self
# reference whose parent comes later in the same chunk), c -> a.
#  - PG -> PG, new tables: loaded, the cycle's foreign keys made after the
#    data (and then enforced);
#  - PG -> PG into a table the user made with a self reference: a row
#    whose parent is later in its chunk loads; a cycle across tables the
#    user made with enforced foreign keys fails, naming the constraint;
#  - SQLite -> PG and PG -> SQLite: loaded.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/pg.bash"

DDL="CREATE TABLE a(id bigint PRIMARY KEY, b_id bigint);
CREATE TABLE b(id bigint PRIMARY KEY, a_id bigint, boss bigint);
CREATE TABLE c(id bigint PRIMARY KEY, a_id bigint);"
FKS="ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b(id) DEFERRABLE;
ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a(id) DEFERRABLE;
ALTER TABLE b ADD CONSTRAINT b_boss FOREIGN KEY (boss) REFERENCES b(id) DEFERRABLE;
ALTER TABLE c ADD CONSTRAINT c_a FOREIGN KEY (a_id) REFERENCES a(id) DEFERRABLE;"
pg_fresh cysrc
pg_sql cysrc "$DDL $FKS
BEGIN; SET CONSTRAINTS ALL DEFERRED;
INSERT INTO a SELECT i, 101 - i FROM generate_series(1, 100) i;
INSERT INTO b SELECT i, 101 - i, CASE WHEN i < 100 THEN i + 1 END FROM generate_series(1, 100) i;
INSERT INTO c SELECT i, i FROM generate_series(1, 100) i;
COMMIT;" >/dev/null

# 1. PG -> PG, new tables
pg_fresh cy1
expect_exit 0 "pg->pg: a cycle loads" "$BARGE" copy "$(pg_url cysrc)" "$(pg_url cy1)" --state s1.db --chunk-rows 30 --jobs 2 --no-progress
check "pg->pg: the cycle is reported" grep -q "load order: a, b, c; foreign-key cycle: a -> b -> a" "$WORK/last.out"
for t in a b c; do check "pg->pg: $t copied" pg_same cysrc cy1 $t id; done
check "pg->pg: the cycle's foreign keys made after the data" [ "$(pg_val cy1 "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'f'")" = "a_b,b_a,b_boss,c_a" ]
expect_exit 1 "pg->pg: ... and enforced" pg_sql cy1 "DELETE FROM a WHERE id = 1"

# 2. into a table made beforehand with a self-referencing foreign key: a
# row whose parent comes later in the same chunk loads (one COPY per chunk:
# the key is checked when the statement ends)
pg_fresh cy2
pg_sql cysrc "CREATE TABLE bdesc AS SELECT id, a_id, 101 - id AS boss FROM b;
ALTER TABLE bdesc ADD PRIMARY KEY (id)" >/dev/null
pg_sql cy2 "CREATE TABLE bdesc(id bigint PRIMARY KEY, a_id bigint, boss bigint REFERENCES bdesc(id))" >/dev/null
expect_exit 0 "existing self reference: parents later in the chunk" "$BARGE" copy "$(pg_url cysrc)" "$(pg_url cy2)" --tables bdesc --state s2.db --chunk-rows 100 --no-progress
check "existing self reference: copied" pg_same cysrc cy2 bdesc id
# ... but a cycle across tables the target already has, with its foreign
# keys enforced, cannot load chunk by chunk: the first chunk fails naming
# the constraint (docs/mapping.md: drop them for the run, or let barge
# create the tables)
pg_fresh cy5
pg_sql cy5 "$DDL $FKS" >/dev/null
expect_exit 1 "existing enforced cycle: fails" "$BARGE" copy "$(pg_url cysrc)" "$(pg_url cy5)" --tables a,b --state s5.db --no-progress
check "existing enforced cycle: names the constraint" grep -q 'violates foreign key constraint \"a_b\"' "$WORK/last.out"

# 3. SQLite -> PG and PG -> SQLite
sqlite3 cy.db "CREATE TABLE a(id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id));
CREATE TABLE b(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), boss INTEGER REFERENCES b(id));
CREATE TABLE c(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO a SELECT i, 101 - i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO b SELECT i, 101 - i, CASE WHEN i < 100 THEN i + 1 END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO c SELECT i, i FROM n;"
pg_fresh cy3
expect_exit 0 "sqlite->pg: a cycle loads" "$BARGE" copy sqlite:cy.db "$(pg_url cy3)" --state s3.db --chunk-rows 30 --no-progress
check "sqlite->pg: the cycle is reported" grep -q "foreign-key cycle: a -> b -> a" "$WORK/last.out"
check "sqlite->pg: b copied" [ "$(pg_val cy3 "SELECT count(*) || '/' || sum(boss) FROM b")" = "100/5049" ]
expect_exit 0 "pg->sqlite: a cycle loads" "$BARGE" copy "$(pg_url cysrc)" sqlite:cy4.db --tables a,b,c --state s4.db --chunk-rows 30 --no-progress
check "pg->sqlite: b copied" [ "$(sqlite3 cy4.db "SELECT count(*) || '/' || sum(boss) FROM b")" = "100/5049" ]
finish
