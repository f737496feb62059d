#!/usr/bin/env bash
# bench/sqlite.sh: barge copy SQLite -> SQLite against SQLite's own
# ATTACH + INSERT INTO ... SELECT, at two sizes, in one run. Prints the wall
# times (median of RUNS), the ratio barge/sqlite, and barge's peak RSS at
# both sizes. It never asserts a timing: it only prints. See bench/README.md.
#
# Environment: ROWS (default 5000000), SMALL (500000), RUNS (3), JOBS (2),
# BENCH_DIR (build/bench), BARGE_ARGS (extra arguments for barge copy),
# BARGE (the binary; default build/barge, built here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS=${ROWS:-5000000}
SMALL=${SMALL:-500000}
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
BENCH_DIR=${BENCH_DIR:-build/bench}
read -r -a EXTRA <<<"${BARGE_ARGS:-}"
GNU_TIME=/usr/bin/time
BARGE=${BARGE:-build/barge}

for tool in sqlite3 "$GNU_TIME" cmake; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool not found; run scripts/bootstrap" >&2
		exit 2
	}
done

# A release build; incremental, so this is quick when it is up to date.
mkdir -p build
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release &&
	cmake --build build -j"$(nproc)" --target barge mkshop; } >build/bench-build.log 2>&1; then
	cat build/bench-build.log >&2
	echo "bench: the release build failed (log above)" >&2
	exit 1
fi
mkdir -p "$BENCH_DIR"

# Sources are deterministic (fixed seed), so an existing one is reused.
source_db() {
	local db="$BENCH_DIR/bench-$1.db"
	if [[ ! -f $db ]]; then
		build/mkshop "$db" --bench-rows "$1" >&2
	fi
	printf '%s' "$db"
}

# timed (the run fails where its output is read) and median
. bench/lib.bash

check_count() {
	local got
	got=$(sqlite3 "$1" 'SELECT count(*) FROM bench')
	if [[ $got != "$2" ]]; then
		echo "bench: $1 has $got rows, expected $2" >&2
		exit 1
	fi
}

# Sets globals SQ_T, SQ_RSS, BG_T, BG_RSS: medians over RUNS runs, the two
# tools interleaved so that a noisy spell hits both alike.
bench_size() {
	local rows=$1 src schema dst state i t m sq=() sqr=() bg=() bgr=()
	src=$(source_db "$rows")
	schema=$(sqlite3 "$src" "SELECT sql FROM sqlite_master WHERE type='table' AND name='bench'")
	dst="$BENCH_DIR/target-$rows.db"
	state="$BENCH_DIR/state-$rows.db"
	for ((i = 1; i <= RUNS; i++)); do
		rm -f "$dst" "$dst"-journal "$dst"-wal "$dst"-shm
		read -r t m < <(timed sqlite3 "$dst" \
			"ATTACH '$src' AS s; $schema; INSERT INTO bench SELECT * FROM s.bench;")
		check_count "$dst" "$rows"
		sq+=("$t") sqr+=("$m")

		rm -f "$dst" "$dst"-journal "$dst"-wal "$dst"-shm "$state" "$state"-wal "$state"-shm
		read -r t m < <(timed "$BARGE" copy "sqlite:$src" "sqlite:$dst" \
			--jobs "$JOBS" --state "$state" "${EXTRA[@]}")
		check_count "$dst" "$rows"
		bg+=("$t") bgr+=("$m")
		printf '  %9d rows, run %d/%d: sqlite %6.2f s, barge %6.2f s, barge RSS %6.1f MiB\n' \
			"$rows" "$i" "$RUNS" "${sq[-1]}" "$t" "$(awk -v k="$m" 'BEGIN{print k/1024}')" >&2
	done
	SQ_T=$(median "${sq[@]}") SQ_RSS=$(median "${sqr[@]}")
	BG_T=$(median "${bg[@]}") BG_RSS=$(median "${bgr[@]}")
	rm -f "$dst" "$state" "$state"-wal "$state"-shm
}

echo "bench: SQLite -> SQLite, table bench, barge --jobs $JOBS, median of $RUNS runs" >&2
declare -A R
for rows in "$SMALL" "$ROWS"; do
	bench_size "$rows"
	R[$rows]="$SQ_T $SQ_RSS $BG_T $BG_RSS"
done

echo
echo "SQLite -> SQLite copy of table bench (median of $RUNS runs, barge --jobs $JOBS)"
printf '%10s  %10s  %10s  %12s  %14s  %15s\n' rows "sqlite s" "barge s" "barge/sqlite" \
	"barge RSS MiB" "sqlite3 RSS MiB"
for rows in "$SMALL" "$ROWS"; do
	read -r st sm bt bm <<<"${R[$rows]}"
	awk -v n="$rows" -v st="$st" -v sm="$sm" -v bt="$bt" -v bm="$bm" 'BEGIN {
		printf "%10d  %10.2f  %10.2f  %12.2f  %14.1f  %15.1f\n",
			n, st, bt, (st > 0 ? bt / st : 0), bm / 1024, sm / 1024 }'
done
read -r _ _ _ small_rss <<<"${R[$SMALL]}"
read -r _ _ _ big_rss <<<"${R[$ROWS]}"
awk -v a="$small_rss" -v b="$big_rss" -v s="$SMALL" -v l="$ROWS" 'BEGIN {
	printf "barge peak RSS at %d rows / at %d rows: %.2f (aim: at most 1.10)\n", l, s, (a > 0 ? b / a : 0) }'
