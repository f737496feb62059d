# Bad input gets a one-line error naming the thing, exit 2, and nothing is
# created or written: not the target, not the state file, not the source.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 100 --orders 200 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
src_digest=$(md5sum < shop.db)

nothing_created() {
	[ ! -e out.db ] && [ ! -e st.db ] && [ ! -e missing.db ] && [ "$(md5sum < shop.db)" = "$src_digest" ]
}
one_line_naming() { # the error is one line and names $1
	[ "$(wc -l < "$WORK/last.err")" = 1 ] && grep -q -- "$1" "$WORK/last.err"
}

expect_exit 2 "unknown scheme" "$BARGE" copy oracle://scott:tiger@h/db sqlite:out.db --state st.db
check "unknown scheme named" one_line_naming oracle
check "password not printed" bash -c "! grep -q tiger '$WORK/last.err'"
check "nothing created (scheme)" nothing_created

expect_exit 2 "missing source file" "$BARGE" copy sqlite:missing.db sqlite:out.db --state st.db
check "missing source named" one_line_naming missing.db
check "nothing created (missing source)" nothing_created

expect_exit 2 "unknown table" "$BARGE" copy sqlite:shop.db sqlite:out.db --state st.db --tables customers,nosuch
check "unknown table named" one_line_naming nosuch
check "nothing created (unknown table)" nothing_created

expect_exit 2 "unreadable plan" "$BARGE" run nosuch-plan.yaml
check "plan named" one_line_naming nosuch-plan.yaml
printf 'source: sqlite:shop.db\ntarget: [unclosed\n' > broken.yaml
expect_exit 2 "malformed plan" "$BARGE" run broken.yaml
check "malformed plan named" one_line_naming broken.yaml

cat > cols.yaml <<'PLAN'
source: sqlite:shop.db
target: sqlite:out.db
state: st.db
tables:
  - name: customers
    columns:
      nosuchcol: {to: x}
PLAN
expect_exit 2 "unknown column" "$BARGE" run cols.yaml
check "unknown column named" one_line_naming nosuchcol
check "nothing created (unknown column)" nothing_created

expect_exit 2 "unknown option" "$BARGE" copy sqlite:shop.db sqlite:out.db --bogus
expect_exit 2 "bad number" "$BARGE" copy sqlite:shop.db sqlite:out.db --jobs zero
expect_exit 2 "bad mode" "$BARGE" copy sqlite:shop.db sqlite:out.db --mode merge
expect_exit 2 "unknown command" "$BARGE" frobnicate
check "nothing created (options)" nothing_created

# a state file from another job is refused, not resumed
expect_exit 0 "a first copy" "$BARGE" copy sqlite:shop.db sqlite:out.db --state st.db --tables customers --no-progress
sqlite3 st.db "UPDATE runs SET status='failed'"
expect_exit 2 "resume with another table set" "$BARGE" copy sqlite:shop.db sqlite:out.db --state st.db --tables orders
check "refusal says why" one_line_naming "unfinished run"
expect_exit 0 "--restart starts over" "$BARGE" copy sqlite:shop.db sqlite:out.db --state st.db --tables orders --restart --no-progress
expect_exit 0 "--version" "$BARGE" --version
expect_exit 0 "copy --help" "$BARGE" copy --help
finish
