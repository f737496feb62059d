# A real password against a server that checks it (SCRAM): the right one
# copies, a wrong one fails with a one-line reason, PGPASSWORD works, and
# the password is never printed nor stored (stdout, stderr, state, report).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pg.bash"

SECRET='Sec-ret:pw@1'      # needs percent-encoding in a URL
ENCODED='Sec-ret%3Apw%401'
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS cred" -c "DROP ROLE IF EXISTS barge_pw" \
	-c "SET password_encryption = 'scram-sha-256'" \
	-c "CREATE ROLE barge_pw LOGIN PASSWORD '$SECRET'" -c "CREATE DATABASE cred OWNER barge_pw"
hba=$(pg_val postgres "SHOW hba_file")
grep -q barge_pw "$hba" || sed -i '1i host all barge_pw 127.0.0.1/32 scram-sha-256' "$hba"
pg_val postgres "SELECT pg_reload_conf()" >/dev/null

"$MKSHOP" shop.db --customers 200 --orders 300 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
URL="postgresql://barge_pw:$ENCODED@127.0.0.1:$PGPORT/cred"
nothing_leaked() {
	! grep -rqaF -e "$SECRET" -e "$ENCODED" . && ! grep -qaF -e "$SECRET" -e "$ENCODED" "$WORK/last.out" "$WORK/last.err"
}

expect_exit 1 "a wrong password fails" "$BARGE" copy sqlite:shop.db \
	"postgresql://barge_pw:wrong-$ENCODED@127.0.0.1:$PGPORT/cred" --state st.db --no-progress
check "the failure says why" grep -qi 'password\|authentication' "$WORK/last.err"
check "nothing leaked (wrong password)" nothing_leaked

expect_exit 0 "the right password copies" "$BARGE" copy sqlite:shop.db "$URL" \
	--tables customers,orders --state st.db --report r.json --no-progress
check "rows arrived" [ "$(PGPASSWORD=$SECRET psql -X -At -h 127.0.0.1 -p "$PGPORT" -U barge_pw -d cred -c 'SELECT count(*) FROM customers')" = 200 ]
check "the state file names the target without the password" \
	[ "$(sqlite3 st.db 'SELECT target FROM runs')" = "postgresql://barge_pw:***@127.0.0.1:$PGPORT/cred" ]
check "nothing leaked (copy)" nothing_leaked
expect_exit 0 "status" "$BARGE" status --state st.db
check "nothing leaked (status)" nothing_leaked
expect_exit 0 "inspect the target" "$BARGE" inspect "$URL" --format json
check "nothing leaked (inspect)" nothing_leaked

expect_exit 0 "PGPASSWORD instead of the URL" env PGPASSWORD="$SECRET" "$BARGE" copy sqlite:shop.db \
	"postgresql://barge_pw@127.0.0.1:$PGPORT/cred" --tables customers,orders --state st2.db --restart --mode upsert --no-progress
check "nothing leaked (PGPASSWORD)" nothing_leaked
finish
