#!/usr/bin/env bash
# Parquet files from barge's writer, read back by two independent readers:
# `test_parquet write DIR` writes every logical type's edge values with each
# codec (and DIR/expected.json, the values it was given), then
# parquet_check.mjs has DuckDB and hyparquet read each file and compare
# every value, the inferred types, codecs, row groups and statistics.
# Usage: parquet_readers.sh PATH/TO/test_parquet
# Exit 77 (ctest: skipped) only when a reader is not installed.
set -euo pipefail
gen=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

missing=
command -v node >/dev/null 2>&1 || missing="node"
for m in @duckdb/node-api hyparquet hyparquet-compressors; do
	[[ -d $here/node_modules/$m ]] || missing="$missing $m"
done
if [[ -n $missing ]]; then
	echo "SKIP: the Parquet readers are not installed ($missing); run scripts/bootstrap"
	exit 77
fi

dir="${BARGE_TEST_TMP:-/tmp}/parquet_readers"
rm -rf "$dir"
mkdir -p "$dir"
"$gen" write "$dir"
node "$here/parquet_check.mjs" "$dir"
