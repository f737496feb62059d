// Reads the Parquet files barge's writer made (tests/unit/test_parquet.c,
// `write DIR`) with two readers that share no code with barge, DuckDB and
// hyparquet, and compares every value with DIR/expected.json (the values
// the writer was given), and the files' metadata: the types each reader
// infers, the codec, the row groups, null counts, min/max statistics.
// Usage: node parquet_check.mjs DIR
// Values are compared in a neutral form (expected.json's): integers, days
// and microseconds as decimal text, floats as their IEEE bits (NaN as
// "NaN"), decimals as their unscaled integer, bytes as hex, uuids as text.
// hyparquet turns decimals into JS numbers, so for it decimals are
// compared to 1e-13 relative; DuckDB's are exact.
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readFileSync } from 'node:fs';

const dir = process.argv[2];
if (!dir) {
	console.error('usage: node parquet_check.mjs DIR');
	process.exit(2);
}
const exp = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8'));
const cols = exp.columns;
let passed = 0, failed = 0;
const check = (ok, what) => {
	if (ok) {
		passed++;
	} else {
		failed++;
		if (failed <= 40) console.error(`FAIL ${what}`);
	}
};

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const floatBits = (x) => {
	if (Number.isNaN(x)) return 'NaN';
	const dv = new DataView(new ArrayBuffer(8));
	dv.setFloat64(0, x);
	return dv.getBigUint64(0).toString(16).padStart(16, '0');
};
const decimalNumber = (unscaled, scale) => Number(unscaled) / 10 ** scale;
const scaleOf = (c) => Number(/,(\d+)\)/.exec(c.duckdb)?.[1] ?? 0);

// A DuckDB value in the neutral form.
function fromDuckDB(kind, v) {
	if (v === null || v === undefined) return null;
	switch (kind) {
	case 'float': return floatBits(v);
	case 'decimal': return v.value.toString();
	case 'bytes': return hex(v.bytes);
	case 'date': return String(v.days);
	case 'time': case 'ts': return String(v.micros);
	case 'uuid': case 'json': return v.toString();
	default: return String(v);
	}
}

// A hyparquet value in the neutral form (its parsers below keep days,
// microseconds and JSON text as they are).
function fromHyparquet(kind, v) {
	if (v === null || v === undefined) return null;
	switch (kind) {
	case 'float': return floatBits(v);
	case 'bytes': return hex(v);
	case 'decimal': return v; // a number: compared approximately
	default: return String(v);
	}
}

const td = new TextDecoder();
const parsers = {
	dateFromDays: (d) => d,
	timestampFromMicroseconds: (m) => m,
	timestampFromMilliseconds: (m) => m,
	jsonFromBytes: (b) => b && td.decode(b),
};

function compareRows(reader, rows, conv) {
	check(rows.length === exp.rows.length, `${reader}: ${rows.length} rows, expected ${exp.rows.length}`);
	const n = Math.min(rows.length, exp.rows.length);
	for (let r = 0; r < n; r++) {
		for (let c = 0; c < cols.length; c++) {
			const want = exp.rows[r][c];
			const got = conv(cols[c].kind, rows[r][c]);
			if (reader.endsWith('hyparquet') && cols[c].kind === 'decimal' && want !== null && got !== null) {
				const w = decimalNumber(want, scaleOf(cols[c]));
				check(Math.abs(got - w) <= 1e-13 * Math.max(1, Math.abs(w)),
					`${reader} row ${r} ${cols[c].name}: ${got} != ${w}`);
				continue;
			}
			check(got === want, `${reader} row ${r} ${cols[c].name}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
		}
	}
}

// Expected statistics of column c over rows [lo, hi): null count, and
// min/max in the column's order (undefined when the spec says none).
function expectedStats(c, lo, hi) {
	const kind = cols[c].kind;
	let nulls = 0, min, max;
	const less = (a, b) => {
		switch (kind) {
		case 'float': return a < b;
		case 'text': case 'json': return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
		case 'uuid': case 'bool': case 'bytes': return a < b; // hex keeps byte order
		default: return BigInt(a) < BigInt(b);
		}
	};
	for (let r = lo; r < hi; r++) {
		let v = exp.rows[r][c];
		if (v === null) { nulls++; continue; }
		if (kind === 'float') {
			if (v === 'NaN') continue;
			const dv = new DataView(new ArrayBuffer(8));
			dv.setBigUint64(0, BigInt('0x' + v));
			v = dv.getFloat64(0);
		}
		if (min === undefined || less(v, min)) min = v;
		if (max === undefined || less(max, v)) max = v;
	}
	if (kind === 'float') {
		if (min === 0) min = -0;
		if (max === 0) max = 0;
	}
	if (kind === 'text' && min !== undefined &&
	    (Buffer.from(min).length > 64 || Buffer.from(max).length > 64)) min = max = undefined;
	return { nulls, min, max };
}

const statValue = (kind, v) => {
	if (v === undefined) return undefined;
	if (kind === 'float') return v;
	if (kind === 'bool') return String(v);
	return String(v);
};

async function checkFile(f) {
	const path = `${dir}/${f.name}`;
	// ---- DuckDB
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	const src = `read_parquet('${path}')`;
	const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRows();
	for (let c = 0; c < cols.length; c++) {
		check(desc[c]?.[0] === cols[c].name && desc[c]?.[1] === cols[c].duckdb,
			`${f.name} duckdb: column ${c} is ${desc[c]?.[0]} ${desc[c]?.[1]}, expected ${cols[c].name} ${cols[c].duckdb}`);
	}
	const rows = (await con.runAndReadAll(`SELECT * FROM ${src} ORDER BY id`)).getRows();
	compareRows(`${f.name} duckdb`, rows, fromDuckDB);
	const meta = (await con.runAndReadAll(
		`SELECT row_group_id, column_id, compression, encodings, stats_null_count, row_group_num_rows
		 FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`)).getRows();
	// small 1: row groups of rows_per_group rows; 2: closed by bytes
	// (more than one); 0: the defaults (one)
	const groups = f.small === 1 ? Math.ceil(exp.rows.length / exp.rows_per_group)
		: f.small === 2 ? new Set(meta.map((m) => Number(m[0]))).size : 1;
	check(groups > (f.small === 2 ? 2 : 0), `${f.name}: ${groups} row groups`);
	check(meta.length === groups * cols.length, `${f.name} duckdb: ${meta.length} column chunks`);
	let rgLo = 0;
	for (const [rg, c, codec, encodings, nulls, nrows] of meta) {
		check(codec === f.codec, `${f.name} duckdb: chunk ${rg}/${c} codec ${codec}`);
		const want = expectedStats(Number(c), rgLo, rgLo + Number(nrows));
		if (Number(c) === cols.length - 1) rgLo += Number(nrows);
		check(Number(nulls) === want.nulls, `${f.name} duckdb: chunk ${rg}/${c} null count ${nulls} != ${want.nulls}`);
		if (cols[c].name === 'cat' || cols[c].name === 'rtxt')
			check(String(encodings).includes('RLE_DICTIONARY'), `${f.name}: ${cols[c].name} not dictionary-encoded (${encodings})`);
	}
	con.closeSync?.();

	// ---- hyparquet
	const buf = readFileSync(path);
	const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
	const md = parquetMetadata(ab, { parsers });
	check(Number(md.num_rows) === exp.rows.length, `${f.name} hyparquet: num_rows ${md.num_rows}`);
	check(md.row_groups.length === groups, `${f.name} hyparquet: ${md.row_groups.length} row groups`);
	let lo = 0;
	for (const rg of md.row_groups) {
		const hi = lo + Number(rg.num_rows);
		rg.columns.forEach((cc, c) => {
			const kind = cols[c].kind;
			const m = cc.meta_data;
			check(m.codec === f.codec, `${f.name} hyparquet: codec ${m.codec}`);
			const st = m.statistics;
			const want = expectedStats(c, lo, hi);
			check(Number(st?.null_count) === want.nulls, `${f.name} hyparquet: ${cols[c].name} null_count ${st?.null_count} != ${want.nulls}`);
			if (['int', 'date', 'time', 'ts', 'text', 'uuid', 'bool', 'float'].includes(kind)) {
				const gmin = statValue(kind, st?.min_value), gmax = statValue(kind, st?.max_value);
				const ok = kind === 'float'
					? Object.is(gmin, want.min) && Object.is(gmax, want.max)
					: gmin === want.min && gmax === want.max;
				check(ok, `${f.name} hyparquet: ${cols[c].name} rows ${lo}..${hi} min/max ${gmin}/${gmax} != ${want.min}/${want.max}`);
				// the deprecated min/max: for signed orders only, and the same
				const legacy = ['int', 'date', 'time', 'ts', 'bool', 'float'].includes(kind) &&
					!cols[c].duckdb.startsWith('U') && want.min !== undefined;
				check(legacy ? Object.is(statValue(kind, st?.min), gmin) && Object.is(statValue(kind, st?.max), gmax)
					: st?.min === undefined && st?.max === undefined,
					`${f.name} hyparquet: ${cols[c].name} deprecated min/max ${st?.min}/${st?.max}`);
			}
		});
		lo = hi;
	}
	const objs = await parquetReadObjects({ file: ab, compressors, parsers, utf8: false });
	compareRows(`${f.name} hyparquet`, objs.map((o) => cols.map((c) => o[c.name])), fromHyparquet);
}

// A file of no rows: the schema, and nothing else.
async function checkEmpty() {
	const path = `${dir}/empty.parquet`;
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).getRows();
	check(desc.map((d) => d[1]).join() === cols.map((c) => c.duckdb).join(), `empty.parquet duckdb: types ${desc.map((d) => d[1])}`);
	const n = (await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`)).getRows()[0][0];
	check(Number(n) === 0, `empty.parquet duckdb: ${n} rows`);
	const buf = readFileSync(path);
	const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
	const md = parquetMetadata(ab);
	check(Number(md.num_rows) === 0 && md.row_groups.length === 0, `empty.parquet hyparquet: ${md.num_rows} rows`);
	const objs = await parquetReadObjects({ file: ab, compressors });
	check(objs.length === 0, `empty.parquet hyparquet: ${objs.length} rows`);
}

try {
	for (const f of exp.files) await checkFile(f);
	await checkEmpty();
} catch (e) {
	console.error(`parquet_check: ${e.stack || e.message}`);
	failed++;
}
console.log(`parquet readers: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
