#!/usr/bin/env bash
# bench/verify.sh: barge verify PG -> PG on the orders dataset (issue 3's
# shape: bigint key, FK, two timestamptz, numeric(12,2), int, text,
# nullable text, jsonb, uuid, boolean, double) with three planted
# differences (one changed, one missing, one extra row), against the
# in-database baseline
#   select count(*), sum(hashtextextended(t::text, 0)) from orders t
# run on both databases in parallel. Prints both wall times (median of
# RUNS) and the ratio barge/baseline; checks that barge found exactly the
# three differences. It never asserts a timing. See bench/README.md.
#
# The cluster is a throwaway one on loopback that this script starts and
# stops (tests/pg/cluster.sh). Environment: ROWS (default 5000000), RUNS
# (1), JOBS (2, barge verify --jobs), CHUNK (barge --chunk-rows, 100000),
# BENCH_DIR (build-bench/bench), BUILD_DIR (build-bench: a release build
# made here), BARGE_ARGS (extra arguments for barge verify).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS=${ROWS:-5000000}
RUNS=${RUNS:-1}
JOBS=${JOBS:-2}
CHUNK=${CHUNK:-100000}
BUILD_DIR=${BUILD_DIR:-build-bench}
BENCH_DIR=${BENCH_DIR:-$BUILD_DIR/bench}
read -r -a EXTRA <<<"${BARGE_ARGS:-}"

mkdir -p "$BUILD_DIR" "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
if ! { cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release &&
	cmake --build "$BUILD_DIR" -j"$(nproc)" --target barge; } >"$BENCH_DIR/build.log" 2>&1; then
	cat "$BENCH_DIR/build.log" >&2
	echo "bench: the release build failed (log above)" >&2
	exit 1
fi
BARGE=$(cd "$BUILD_DIR" && pwd)/barge

# The cluster: the tests' script, with its state under BENCH_DIR.
export BARGE_TEST_TMP=$BENCH_DIR/tmp
bash tests/pg/cluster.sh start
trap 'bash tests/pg/cluster.sh stop' EXIT
. "$BARGE_TEST_TMP/pg/env"
export PATH="$PGBIN:$PATH" PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

echo "bench: generating $ROWS orders" >&2
t0=$EPOCHREALTIME
createdb vsrc
"${PSQL[@]}" -d vsrc <<SQL
CREATE TABLE customers(id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, greatest($ROWS / 50, 1)) i;
CREATE TABLE orders(
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers(id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  amount numeric(12,2) NOT NULL,
  quantity integer NOT NULL,
  status text NOT NULL,
  note text,
  meta jsonb,
  ref uuid NOT NULL,
  paid boolean NOT NULL,
  score double precision);
INSERT INTO orders SELECT i,
  1 + (i * 7919) % greatest($ROWS / 50, 1),
  timestamptz '2020-01-01 00:00:00+00' + i * interval '17 seconds',
  timestamptz '2020-01-01 00:00:00+00' + i * interval '17 seconds' + (i % 1000) * interval '1 millisecond',
  ((i * 37) % 100000) / 100.0,
  1 + i % 20,
  (ARRAY['new', 'paid', 'shipped', 'delivered', 'returned'])[1 + i % 5],
  CASE WHEN i % 3 = 0 THEN NULL ELSE 'note for order ' || i END,
  jsonb_build_object('source', 'web', 'items', 1 + i % 5, 'tags', jsonb_build_array('a', i % 7)),
  md5(i::text)::uuid,
  i % 2 = 0,
  CASE WHEN i % 11 = 0 THEN NULL ELSE i * 0.001 END
FROM generate_series(1, $ROWS::bigint) i;
VACUUM ANALYZE customers;
VACUUM ANALYZE orders;
SQL
createdb -T vsrc vdst
# three differences: a changed amount, a missing row, an extra row
"${PSQL[@]}" -d vdst <<SQL
UPDATE orders SET amount = amount + 0.01 WHERE id = $((ROWS / 3));
DELETE FROM orders WHERE id = $((ROWS / 2));
INSERT INTO orders SELECT $ROWS + 1, customer_id, created_at, updated_at, amount, quantity,
  status, note, meta, ref, paid, score FROM orders WHERE id = 1;
VACUUM ANALYZE orders;
SQL
echo "bench: generated in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s" >&2

baseline() {
	local q="select count(*), sum(hashtextextended(t::text, 0)) from orders t"
	"${PSQL[@]}" -At -d vsrc -c "$q" >"$BENCH_DIR/base-src.out" &
	local p=$!
	"${PSQL[@]}" -At -d vdst -c "$q" >"$BENCH_DIR/base-dst.out"
	wait "$p"
}
verify() {
	local rc=0
	"$BARGE" verify "$BARGE_PG_URL/vsrc" "$BARGE_PG_URL/vdst" --tables orders \
		--jobs "$JOBS" --chunk-rows "$CHUNK" --report "$BENCH_DIR/verify.json" \
		"${EXTRA[@]}" >"$BENCH_DIR/verify.out" 2>"$BENCH_DIR/verify.err" || rc=$?
	if [[ $rc != 1 ]]; then
		cat "$BENCH_DIR/verify.out" "$BENCH_DIR/verify.err" >&2
		echo "bench: barge verify exited $rc, wanted 1 (differences)" >&2
		exit 1
	fi
}
timed() { # timed FN: wall seconds
	local t0=$EPOCHREALTIME
	"$@"
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

found() {
python3 - "$BENCH_DIR/verify.json" "$ROWS" <<'PY'
import json, sys
rows = int(sys.argv[2])
t = json.load(open(sys.argv[1]))["tables"][0]
got = sorted((d["kind"], d["key"]["id"]) for d in t["differences"])
want = sorted([("changed", rows // 3), ("missing", rows // 2), ("extra", rows + 1)])
if got != want:
    sys.exit("bench: barge found %s, wanted %s" % (got, want))
print("barge found the three differences: %s (digests %s)" % (got, t["digests"]), file=sys.stderr)
PY
}

# barge twice: chunk digests made in PostgreSQL (--in-database; here through
# BARGE_NO_FASTPATH=0, which does the same) and rows streamed and hashed by
# barge (the default).
baseline # once to warm the caches for both
bt=() vt=() st=()
for ((r = 0; r < RUNS; r++)); do
	bt+=("$(timed baseline)")
	vt+=("$(BARGE_NO_FASTPATH=0 timed verify)")
	found
	st+=("$(BARGE_NO_FASTPATH=1 timed verify)")
	found
done
B=$(printf '%s\n' "${bt[@]}" | median)
V=$(printf '%s\n' "${vt[@]}" | median)
S=$(printf '%s\n' "${st[@]}" | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'orders PG -> PG, %d rows, 3 differences, jobs %d, runs %d\n' "$ROWS" "$JOBS" "$RUNS"
printf '  baseline (count + sum(hashtextextended(t::text)), both sides in parallel): %8.3fs\n' "$B"
printf '  barge verify, in-database digests (localization included):             %8.3fs  ratio %s\n' "$V" "$(ratio "$V" "$B")"
printf '  barge verify, streamed digests (BARGE_NO_FASTPATH=1):                   %8.3fs  ratio %s\n' "$S" "$(ratio "$S" "$B")"
