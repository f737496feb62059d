# Helpers shared by the benches (sourced, not run): each sets GNU_TIME
# (GNU time's path) and BENCH_DIR (where the logs go) before using them.

# Runs a command under GNU time; prints "wall_seconds peak_rss_kb". The wall
# time is taken here (microseconds) rather than from time's %e (1/100 s).
# On a failure: the end of its log on stderr, and status 1.
timed() {
	local tf="$BENCH_DIR/time.out" log="$BENCH_DIR/last-run.log" t0 t1
	t0=$EPOCHREALTIME
	if ! "$GNU_TIME" -f '%M' -o "$tf" "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "bench: failed: $*" >&2
		return 1
	fi
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" -v m="$(tail -n 1 "$tf")" 'BEGIN { printf "%.3f %d\n", b - a, m }'
}

# The median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
