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

# The rounds: RUNS times, each tool of TOOLS in turn (interleaved, so the
# machine's drift falls on all of them), each after `prepare_run TOOL`,
# timed by `run_tool TOOL` ("seconds rss_kb") and checked by
# `check_target TOOL` (prints what it found; fails on a wrong target).
# Fills T[tool] and M[tool] (space-separated seconds and peak RSS in KiB,
# FAIL for a failed run). The caller declares: declare -A T M
bench_rounds() {
	local i tool t m what
	read -r -a tools <<<"$TOOLS"
	for ((i = 1; i <= RUNS; i++)); do
		for tool in "${tools[@]}"; do
			prepare_run "$tool"
			if ! read -r t m < <(run_tool "$tool" || echo "FAIL 0"); then t=FAIL; fi
			if [[ $t == FAIL ]]; then
				echo "bench: $tool failed in run $i (log: $BENCH_DIR/last-run.log)" >&2
				T[$tool]+="FAIL "
				continue
			fi
			what=$(check_target "$tool") || { T[$tool]+="FAIL "; continue; }
			T[$tool]+="$t "
			M[$tool]+="$m "
			printf '  run %d/%d: %-14s %8.2f s  peak RSS %7.1f MiB  (%s)\n' "$i" "$RUNS" \
				"$tool" "$t" "$(awk -v k="$m" 'BEGIN{print k/1024}')" "$what" >&2
		done
	done
}

# The table of medians, barge's ratio to each tool (BASE names the barge
# run each tool is compared with, default barge) and each run's pair
# ratios (barge and the tool ran one after the other: the ratios the
# noise affects least) with their median.
bench_report() { # bench_report TITLE [BASE [TOOL...]] (default: every tool)
	local base=${2:-barge} bt="" tool i
	local -a v r bv tv pairs list=("${@:3}")
	((${#list[@]})) || list=("${tools[@]}")
	echo
	echo "$1 (median of $RUNS runs)"
	printf '%-14s %10s %14s %14s\n' tool seconds "$base/tool" "peak RSS MiB"
	if [[ -n ${T[$base]:-} && ${T[$base]} != *FAIL* ]]; then
		read -r -a v <<<"${T[$base]}"
		bt=$(median "${v[@]}")
	fi
	for tool in "${list[@]}"; do
		[[ " $TOOLS " == *" $tool "* ]] || continue
		if [[ -z ${T[$tool]:-} || ${T[$tool]} == *FAIL* ]]; then
			printf '%-14s %10s\n' "$tool" "failed"
			continue
		fi
		read -r -a v <<<"${T[$tool]}"
		read -r -a r <<<"${M[$tool]}"
		awk -v n="$tool" -v t="$(median "${v[@]}")" -v b="$bt" -v m="$(median "${r[@]}")" 'BEGIN {
			printf "%-14s %10.2f %14s %14.1f\n", n, t, (b != "" && t > 0 ? sprintf("%.2f", b / t) : "-"), m / 1024 }'
	done
	[[ -n ${T[$base]:-} ]] || return 0
	read -r -a bv <<<"${T[$base]}"
	for tool in "${list[@]}"; do
		[[ $tool == "$base" || -z ${T[$tool]:-} ]] && continue
		read -r -a tv <<<"${T[$tool]}"
		pairs=()
		for ((i = 0; i < ${#bv[@]} && i < ${#tv[@]}; i++)); do
			[[ ${bv[i]} == FAIL || ${tv[i]} == FAIL ]] && continue
			pairs+=("$(awk -v b="${bv[i]}" -v t="${tv[i]}" 'BEGIN { printf "%.3f", b / t }')")
		done
		((${#pairs[@]})) && printf '%s/%s by run: %s (median of pairs %s)\n' \
			"$base" "$tool" "${pairs[*]}" "$(median "${pairs[@]}")"
	done
	return 0
}

# The release build of barge into BUILD_DIR (unless BARGE_PREBUILT), its
# log in BENCH_DIR; BENCH_DIR and BARGE become absolute paths.
bench_build() {
	mkdir -p "$BUILD_DIR" "$BENCH_DIR"
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
	if [[ -z ${BARGE_PREBUILT:-} ]]; then
		if ! { cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release &&
			cmake --build "$BUILD_DIR" -j"$(nproc)" --target barge; } >"$BENCH_DIR/build.log" 2>&1; then
			cat "$BENCH_DIR/build.log" >&2
			echo "bench: the release build failed (log above)" >&2
			exit 1
		fi
	fi
	BARGE=$(realpath "$BARGE")
}

# What a bench needs: each of TOOLS (a path or a command; run
# scripts/bootstrap if one is missing), and the peers of PEERS
# ("tool:package" pairs) that TOOLS names, which scripts/bootstrap does
# not install (only the benches need them): installed as root, else named.
bench_need() { # bench_need "TOOL..." "TOOL:PACKAGE..."
	local tool pkg need=()
	for tool in $1; do
		command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || {
			echo "bench: $tool not found; run scripts/bootstrap" >&2
			exit 2
		}
	done
	for tool in $2; do
		pkg=${tool#*:}
		tool=${tool%%:*}
		[[ " $TOOLS " == *" $tool "* ]] && ! command -v "$pkg" >/dev/null && need+=("$pkg")
	done
	((${#need[@]})) || return 0
	if [[ $(id -u) -eq 0 ]]; then
		echo "bench: installing ${need[*]} (Debian packages)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
	else
		echo "bench: ${need[*]} missing: apt-get install ${need[*]}, or choose TOOLS" >&2
		exit 2
	fi
}
