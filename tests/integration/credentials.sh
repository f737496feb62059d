# A password in a URL is never printed or recorded: not on stdout or
# stderr of any command, not in the state file, not in a report. The URLs
# point at a closed port (or an engine this build lacks): each command
# fails, and the failure message must still hide the password.
. "$(dirname "$0")/lib.bash"

"$MKSHOP" shop.db --customers 100 --orders 200 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }
SECRET='s3cr3tPw'
PG="postgresql://migrator:$SECRET@127.0.0.1:1/shop"
MY="mysql://migrator:$SECRET@127.0.0.1:1/shop"
ENC="postgresql://migrator:$SECRET%40x@127.0.0.1:1/shop?sslmode=require"
leaks=0
# run a command; its output, and any file it made, must not hold the secret
no_leak() { # no_leak WHAT command...   (the command must fail)
	local what=$1; shift
	"$@" > out.txt 2> err.txt
	local rc=$?
	[ "${MAY_PASS:-}" ] || check "$what: fails (exit $rc)" [ $rc != 0 ]
	check "$what: says something" [ -s err.txt ] || [ -s out.txt ]
	check "$what: no password on stdout or stderr" bash -c "! grep -qa '$SECRET' out.txt err.txt"
	check "$what: no password in any file" bash -c "! grep -rqa '$SECRET' --exclude=plan.yaml ."
}
for url in "$PG" "$MY" "$ENC"; do
	scheme=${url%%:*}
	no_leak "copy to $scheme" "$BARGE" copy sqlite:shop.db "$url" --state st.db --report r.json --no-progress
	no_leak "copy from $scheme" "$BARGE" copy "$url" sqlite:out.db --state st.db --report r.json --no-progress
	no_leak "copy --dry-run to $scheme" "$BARGE" copy sqlite:shop.db "$url" --dry-run --state st.db --no-progress
	no_leak "inspect $scheme" "$BARGE" inspect "$url"
	no_leak "inspect $scheme --format json" "$BARGE" inspect "$url" --format json
	# init does not connect to the target: a plan for a PostgreSQL or
	# MySQL target is printed (without the password)
	MAY_PASS=$([ "$scheme" != oracle ] && echo 1) no_leak "init to $scheme" "$BARGE" init sqlite:shop.db "$url"
	no_leak "init from $scheme" "$BARGE" init "$url" sqlite:out.db
	printf 'source: sqlite:shop.db\ntarget: %s\nstate: st.db\n' "$url" > plan.yaml
	no_leak "run a plan with $scheme target" "$BARGE" run plan.yaml --report r.json --no-progress
	rm -f plan.yaml
done
# the secret is in the command line, so the state file and report exist only
# if barge got that far; whatever exists must not hold it
# (the plan, which the user wrote with the password, is gone by now)
check "no password anywhere under the work directory" bash -c "! grep -rqa '$SECRET' ."

# an unknown scheme with a password: refused, password hidden
no_leak "unknown scheme" "$BARGE" copy "oracle://scott:$SECRET@127.0.0.1:1/db" sqlite:out.db --state st.db
no_leak "not a URL" "$BARGE" copy "scott:$SECRET@127.0.0.1" sqlite:out.db --state st.db

finish
