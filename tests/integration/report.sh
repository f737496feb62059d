# --report FILE.json: valid JSON with, per table, chunks, rows read, written
# and rejected, bytes, seconds, rows/s and status, and the same figures as
# the summary table on stdout and the state store; a failed run's report
# says failed and carries the error.
. "$(dirname "$0")/lib.bash"
export BARGE_RETRY_BASE=0.01

"$MKSHOP" shop.db --customers 2000 --orders 3000 >/dev/null 2>&1 || { bad "mkshop"; finish; exit; }

cat > compare.py <<'PY'
# compare.py REPORT SUMMARY STATE: the report against the summary and the store
import json, re, sqlite3, sys
rep = json.load(open(sys.argv[1]))
summary = open(sys.argv[2]).read().splitlines()
st = sqlite3.connect(sys.argv[3])
fails = []
def want(c, what):
    if not c:
        fails.append(what)
def human(v):
    u = ["B", "KiB", "MiB", "GiB", "TiB"]; d = float(v); i = 0
    while d >= 1024 and i < 4:
        d /= 1024; i += 1
    return ("%.1f %s" if i else "%.0f %s") % (d, u[i])
want(rep["status"] in ("done", "failed", "aborted"), "status %r" % rep["status"])
want(rep["run"] == st.execute("SELECT max(id) FROM runs").fetchone()[0], "run id")
want(rep["status"] == st.execute("SELECT status FROM runs ORDER BY id DESC").fetchone()[0], "status as stored")
keys = ["chunks", "chunks_done", "chunks_failed", "rows_read", "rows_written", "rows_rejected",
        "bytes", "seconds", "rows_per_second"]
rows = {}
for line in summary:
    m = re.match(r"^(\S+) +(\d+)/(\d+) +(\d+) +(\d+) +(\d+) +(\d+(?:\.\d)? \S+) +([\d.]+)s +(\d+)$", line)
    if m:
        rows[m.group(1)] = m.groups()
want(len(rep["tables"]) > 0, "the report has tables")
tot = dict.fromkeys(["done", "chunks", "read", "written", "rejected", "bytes"], 0)
for t in rep["tables"]:
    name = t["table"]
    for k in keys:
        want(k in t and isinstance(t[k], (int, float)), "%s: %s missing" % (name, k))
    s = rows.get(name)
    want(s is not None, "%s: no summary line" % name)
    if s is None:
        continue
    want(s[1:7] == (str(t["chunks_done"]), str(t["chunks"]), str(t["rows_read"]),
                    str(t["rows_written"]), str(t["rows_rejected"]), human(t["bytes"])),
         "%s: summary %s vs report %s" % (name, s, t))
    want(abs(float(s[7]) - t["seconds"]) <= 0.006, "%s: seconds %s vs %s" % (name, s[7], t["seconds"]))
    want(s[8] == "%.0f" % t["rows_per_second"], "%s: rows/s %s vs %s" % (name, s[8], t["rows_per_second"]))
    # seconds is printed to the ms: rows/s lies within what those bounds allow
    sec = t["seconds"]
    want(sec < 0.001 or t["rows_written"] / (sec + 0.0005) - 1 <= t["rows_per_second"] <= t["rows_written"] / (sec - 0.0005) + 1,
         "%s: rows_per_second %s is not rows_written / seconds" % (name, t["rows_per_second"]))
    db = st.execute("""SELECT count(*), sum(status = 'done'), sum(status = 'failed'),
        total(CASE WHEN status = 'done' THEN rows_read END), total(CASE WHEN status = 'done' THEN rows_written END),
        total(CASE WHEN status = 'done' THEN bytes END)
        FROM units WHERE run = ? AND table_name = ?""", (rep["run"], name)).fetchone()
    want((t["chunks"], t["chunks_done"], t["chunks_failed"], t["rows_read"], t["rows_written"], t["bytes"]) ==
         (db[0], db[1], db[2], int(db[3]), int(db[4]), int(db[5])), "%s: report %s vs state %s" % (name, t, db))
    for k, v in (("done", t["chunks_done"]), ("chunks", t["chunks"]), ("read", t["rows_read"]),
                 ("written", t["rows_written"]), ("rejected", t["rows_rejected"]), ("bytes", t["bytes"])):
        tot[k] += v
s = rows.get("total")
want(s is not None and s[1:7] == (str(tot["done"]), str(tot["chunks"]), str(tot["read"]), str(tot["written"]),
                                   str(tot["rejected"]), human(tot["bytes"])), "total line %s vs %s" % (s, tot))
want(any(l.startswith("status: " + rep["status"]) for l in summary), "summary status")
for f in fails:
    print("  " + f, file=sys.stderr)
sys.exit(1 if fails else 0)
PY

expect_exit 0 "copy --report" "$BARGE" copy sqlite:shop.db sqlite:copy.db --state st.db \
	--jobs 2 --chunk-rows 700 --report r.json --no-progress
check "report is valid JSON" python3 -c "import json; json.load(open('r.json'))"
check "report matches the summary and the store" python3 compare.py r.json "$WORK/last.out" st.db
check "report: done, every row of every table" python3 -c "
import json, sqlite3
r = json.load(open('r.json')); db = sqlite3.connect('shop.db')
assert r['status'] == 'done', r['status']
assert {t['table']: t['rows_written'] for t in r['tables']} == \
	{n: db.execute('SELECT count(*) FROM \"%s\"' % n).fetchone()[0] for n in ('customers', 'orders', 'order_items', 'audit_log')}
assert all(t['error'] is None and t['chunks_done'] == t['chunks'] and t['bytes'] > 0 for t in r['tables'])"

# a run with a failing chunk: the report says failed and why
BARGE_FAULT=write_batch:data:3:1 expect_exit 1 "copy with a failing chunk" "$BARGE" copy sqlite:shop.db sqlite:f.db \
	--state f.st --tables customers,orders --chunk-rows 500 --report f.json --no-progress
check "failed report matches the summary and the store" python3 compare.py f.json "$WORK/last.out" f.st
check "failed report: status failed, one chunk failed, its error" python3 -c "
import json; r = json.load(open('f.json'))
assert r['status'] == 'failed', r['status']
assert sum(t['chunks_failed'] for t in r['tables']) == 1
assert [t['error'] for t in r['tables'] if t['chunks_failed']][0]"

# run PLAN --report too
printf 'source: sqlite:shop.db\ntarget: sqlite:p.db\nstate: p.st\ndefaults: {chunk_rows: 900}\ntables: [orders, audit_log]\n' > plan.yaml
expect_exit 0 "run --report" "$BARGE" run plan.yaml --report p.json --no-progress
check "run's report matches the summary and the store" python3 compare.py p.json "$WORK/last.out" p.st
finish
