// Runs one SQL query in DuckDB (an in-memory database) and prints each row
// on a line: values tab-separated, NULL as \N, and backslash, tab, LF and
// CR escaped as \\ \t \n \r, so that a shell test can sort and diff the
// rows against the source's. The tests use it to read barge's exports
// with a reader that shares no code with barge.
// Usage: node duckdb_query.mjs 'SELECT ... FROM read_csv(...)'
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
	console.error('usage: node duckdb_query.mjs SQL');
	process.exit(2);
}
const esc = (v) => {
	if (v === null || v === undefined) return '\\N';
	return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t')
		.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
};
try {
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	const res = await con.runAndReadAll(sql);
	const out = res.getRows().map((r) => r.map(esc).join('\t'));
	process.stdout.write(out.length ? out.join('\n') + '\n' : '');
} catch (e) {
	console.error(`duckdb: ${e.message.split('\n')[0]}`);
	process.exit(1);
}
