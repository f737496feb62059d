# `barge verify PLAN.yaml` binds a plan's tables with the run's own code
# (src/lib/binding.c): a plan the run refuses before any data moves, verify
# refuses too (exit 2, the same message) instead of comparing through a
# mapping the run never applied. Each case is one where verify's copy of
# the binding used to accept the plan.
. "$(dirname "$0")/lib.bash"
q() { sqlite3 "$@"; }

q src.db "
CREATE TABLE p(id INTEGER PRIMARY KEY, boss INTEGER, name TEXT);
CREATE TABLE c(id INTEGER PRIMARY KEY, p_id INTEGER, n TEXT);
CREATE TABLE k2(a INTEGER, b INTEGER, v TEXT, PRIMARY KEY (a, b));
INSERT INTO p VALUES (1, NULL, 'one'), (2, 1, 'two');
INSERT INTO c VALUES (1, 1, 'x'), (2, 2, 'y');
INSERT INTO k2 VALUES (1, 1, 'a'), (1, 2, 'b');"
# the target has every column the plans below name
q new.db "
CREATE TABLE p(legacy_id INTEGER PRIMARY KEY, id INTEGER, boss INTEGER, name TEXT, num INTEGER);
CREATE TABLE c(id INTEGER PRIMARY KEY, p_id INTEGER, n TEXT);
CREATE TABLE k2(a INTEGER, b INTEGER, v TEXT, new_id INTEGER, PRIMARY KEY (a, b));"

# refused NAME MESSAGE: plan NAME.yaml is refused by run and by verify
refused() {
	expect_exit 2 "$1: run refuses the plan" "$BARGE" run "$1.yaml" --no-progress
	check "$1: run says why" grep -qF "$2" last.err
	expect_exit 2 "$1: verify refuses the plan" "$BARGE" verify "$1.yaml"
	check "$1: verify says why" grep -qF "$2" last.err
}
plan() { # plan NAME, the tables on stdin
	{ printf 'source: sqlite:src.db\ntarget: sqlite:new.db\nstate: state.db\ntables:\n'; cat; } >"$1.yaml"
}

plan keytype <<'YAML'
  - name: c
    columns:
      id: {type: text}
YAML
refused keytype "table 'c': key column 'id' cannot change its type"

plan seq_composite <<'YAML'
  - name: k2
    add:
      new_id: {sequence: {from: a}}
YAML
refused seq_composite "table 'k2': sequence 'new_id' needs a one-column key"

plan seq_not_key <<'YAML'
  - name: p
    columns:
      id: {to: legacy_id}
    add:
      num: {sequence: {from: boss}}
YAML
refused seq_not_key "table 'p': sequence 'num' must number the key column 'id'"

plan seq_key_skipped <<'YAML'
  - name: p
    columns:
      id: {skip: true}
    add:
      id: {sequence: {from: id}}
YAML
refused seq_key_skipped "table 'p': sequence 'id' needs the key column 'id' copied too"

plan seq_selfref <<'YAML'
  - name: p
    columns:
      id:   {to: legacy_id}
      boss: {references: p.id}
    add:
      id: {sequence: {from: id}}
YAML
refused seq_selfref "table 'p': references p.id, its own key, which a sequence renumbers"

plan ref_not_copied <<'YAML'
  - name: p
    columns:
      name: {skip: true}
  - name: c
    columns:
      p_id: {references: p.name}
YAML
refused ref_not_copied "table 'c': references p.name, but table 'p' does not copy column 'name'"

plan ref_no_column <<'YAML'
  - name: p
  - name: c
    columns:
      p_id: {references: p.nope}
YAML
refused ref_no_column "table 'c': references p.nope, but table 'p' has no column 'nope'"

check "nothing was written" [ "$(q new.db "SELECT (SELECT count(*) FROM p) + (SELECT count(*) FROM c) + (SELECT count(*) FROM k2)")" = 0 ]
finish
