# Faults on MySQL: barge's connections killed mid-chunk (KILL CONNECTION
# of its running statements, source and target) are retried on new
# connections; the server restarted mid-run is waited for and the run
# goes on; barge killed with -9 and run again with the same command
# resumes. Each time the target ends exact and every unit done.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/mysql.bash"

my_fresh myf_src
my_big myf_src 200000 40000
units_left() { sqlite3 "$1" "SELECT count(*) FROM units WHERE status != 'done'" 2>/dev/null || echo 1; }
all_done() { [ "$(units_left "$1")" = 0 ]; }
exact() { # exact DST
	my_same myf_src "$1" big id && my_same myf_src "$1" pairs "k1, BINARY k2"
}

# ---- killed connections ----
# From the first committed chunk on (the run's setup is not retried) to
# the last unit done (the finishing step is tried a few times only): kill
# every statement barge runs on the source or target database.
killer() { # killer DST
	until [ -f stop ] || [ "$(my_sql "$1" "SELECT COUNT(*) FROM big" 2>/dev/null || echo 0)" -gt 0 ]; do
		sleep 0.05
	done
	while [ ! -f stop ] && ! all_done st.db; do
		for id in $(my_sql information_schema "SELECT ID FROM PROCESSLIST WHERE USER = 'barge'
			AND DB IN ('myf_src', '$1') AND COMMAND = 'Query' AND ID <> CONNECTION_ID()" 2>/dev/null); do
			my_sql information_schema "KILL CONNECTION $id" 2>/dev/null && echo "$id" >>kills.txt
		done
		sleep 0.2
	done
}
my_fresh myf_dst
rm -f kills.txt
my_copy_during "its connections are killed" myf_src myf_dst st.db killer myf_dst
killed=$(wc -l <kills.txt 2>/dev/null || echo 0)
check "connections were killed ($killed)" [ "$killed" -gt 0 ]
check "target exact after the kills" exact myf_dst
expect_exit 0 "verify equal after the kills" "$BARGE" verify "$(my_url myf_src)" "$(my_url myf_dst)"

# ---- the server restarts mid-run ----
# once some chunks are in
restarter() {
	until [ -f stop ] || [ "$(my_sql myf_dst2 "SELECT COUNT(*) FROM big" 2>/dev/null || echo 0)" -gt 0 ]; do
		sleep 0.05
	done
	[ -f stop ] || { bash "$BARGE_SRC/tests/mysql/server.sh" restart >restart.log 2>&1 &&
		echo restarted >restarted.txt; }
}
my_fresh myf_dst2
rm -f restarted.txt
my_copy_during "the server restarts" myf_src myf_dst2 st2.db restarter
check "the server was restarted" [ -f restarted.txt ]
check "target exact after the restart" exact myf_dst2

# ---- kill -9 of barge, then the same command ----
my_fresh myf_dst3
cmd=("$BARGE" copy "$(my_url myf_src)" "$(my_url myf_dst3)" --state st3.db --jobs 2
	--chunk-rows 4000 --batch-rows 1000 --no-progress)
"${cmd[@]}" >/dev/null 2>kill9.err &
pid=$!
# once some chunks are committed and others are not
until [ "$(sqlite3 st3.db "SELECT count(*) FROM units WHERE status = 'done'" 2>/dev/null || echo 0)" -gt 2 ] ||
	! kill -0 "$pid" 2>/dev/null; do
	sleep 0.05
done
check "barge was killed mid-run" kill -9 "$pid"
wait "$pid" 2>/dev/null
check "units were left to do" [ "$(units_left st3.db)" -gt 0 ]
expect_exit 0 "the same command again" "${cmd[@]}"
check "one run, resumed" [ "$(sqlite3 st3.db 'SELECT count(*) FROM runs')" = 1 ]
check "every unit done after kill -9" all_done st3.db
check "target exact after kill -9" exact myf_dst3
finish
