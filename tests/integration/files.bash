# Helpers for the file-export scenarios (sourced after lib.bash).
NODE_DIR="$BARGE_SRC/tests/node"

# DuckDB through npm (@duckdb/node-api, installed by scripts/bootstrap):
# the independent reader. Missing, the scenario says so and skips only
# the checks that need it.
have_duckdb() {
	[ -d "$NODE_DIR/node_modules/@duckdb/node-api" ] && command -v node >/dev/null
}
duckdb_rows() { # duckdb_rows SQL: rows as duckdb_query.mjs prints them, sorted
	node "$NODE_DIR/duckdb_query.mjs" "$1" | LC_ALL=C sort
}
# The same escaping in SQLite's SQL for column X (duckdb_query.mjs's rules).
sq_esc() { # sq_esc EXPR
	echo "ifnull(replace(replace(replace(replace(CAST($1 AS TEXT),'\\','\\\\'),char(9),'\\t'),char(10),'\\n'),char(13),'\\r'),'\\N')"
}
# Each part in the manifest: its SHA-256 and size match the file's, and
# the rows add up to WANT. Prints one line on a mismatch.
manifest_ok() { # manifest_ok DIR TABLE WANT_ROWS
	node -e '
const fs = require("fs"), crypto = require("crypto");
const [dir, table, want] = process.argv.slice(1);
const m = JSON.parse(fs.readFileSync(dir + "/manifest.json", "utf8"));
const t = m.tables.find((x) => x.name === table);
if (!t) { console.log("no table " + table); process.exit(1); }
let rows = 0;
for (const p of t.parts) {
	const b = fs.readFileSync(dir + "/" + p.file);
	const h = crypto.createHash("sha256").update(b).digest("hex");
	if (h !== p.sha256 || b.length !== p.bytes) { console.log("part " + p.file + " differs"); process.exit(1); }
	rows += p.rows;
}
const onDisk = fs.readdirSync(dir + "/" + table).filter((f) => f.startsWith("part-")).length;
if (onDisk !== t.parts.length) { console.log(onDisk + " parts on disk, " + t.parts.length + " listed"); process.exit(1); }
if (rows !== Number(want) || t.rows !== rows) { console.log("rows " + rows + " want " + want); process.exit(1); }
' "$1" "$2" "$3"
}
