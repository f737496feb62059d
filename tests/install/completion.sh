# The bash completion (completions/barge.bash), sourced into bash and
# called as bash calls it: COMP_WORDS/COMP_CWORD set, _barge run, the
# candidates read from COMPREPLY. Commands, options, option values,
# comma-separated table names from the SQLite source on the line and from
# a plan's source: line.
. "$BARGE_SRC/tests/integration/lib.bash"

sqlite3 shop.db "CREATE TABLE customers(id INTEGER PRIMARY KEY);
	CREATE TABLE orders(id INTEGER PRIMARY KEY, c INTEGER REFERENCES customers(id));
	CREATE TABLE order_items(o INTEGER REFERENCES orders(id), n INT, PRIMARY KEY (o, n));"
printf 'source: sqlite:%s/shop.db   # the shop\ntarget: sqlite:out.db\n' "$WORK" > plan.yaml

# complete WORD... : the candidates for the last word, one per line, sorted
complete_line() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _barge
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$BARGE_SRC/completions/barge.bash" "$@"
}
has() { # has "what" WANT... -- WORD...
	local what=$1 want=() got w; shift
	while [ "$1" != -- ]; do want+=("$1"); shift; done; shift
	got=$(complete_line "$@")
	for w in "${want[@]}"; do
		if ! grep -qxF -- "$w" <<<"$got"; then
			bad "$what: no '$w' among: $(echo $got)"; return
		fi
	done
	ok
}
exactly() { # exactly "what" "WANT (space-separated, sorted)" WORD...
	local what=$1 want=$2; shift 2
	local got; got=$(complete_line "$@" | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then ok; else bad "$what: got '$got', wanted '$want'"; fi
}

check "completion is registered" bash -c ". '$BARGE_SRC/completions/barge.bash'; complete -p barge | grep -q _barge"
has "commands" copy verify inspect init run status fix rejects --version -- "$BARGE" ""
exactly "commands by prefix" "rejects run" "$BARGE" r
has "copy options" --jobs --chunk-rows --state --restart --quiet -- "$BARGE" copy sqlite:a.db sqlite:b.db --
exactly "copy options by prefix" "--max-failures --mode" "$BARGE" copy --m
exactly "run's own options" "--table --tables" "$BARGE" run plan.yaml --tabl
exactly "verify's --against-state" "--against-state" "$BARGE" verify --ag
exactly "fix has no --against-state" "" "$BARGE" fix --ag
exactly "mode values" "insert replace truncate upsert" "$BARGE" copy --mode ""
exactly "inspect formats" "json text" "$BARGE" inspect sqlite:shop.db --format ""
exactly "rejects formats" "csv json text" "$BARGE" rejects --format ""
exactly "tables of the source" "customers order_items orders" "$BARGE" copy sqlite:shop.db sqlite:out.db --tables ""
exactly "tables by prefix" "order_items orders" "$BARGE" inspect sqlite:shop.db --tables or
exactly "tables after a comma" "customers,order_items customers,orders" "$BARGE" copy --jobs 2 sqlite:shop.db sqlite:out.db --tables customers,o
exactly "tables from the plan's source" "customers order_items orders" "$BARGE" run plan.yaml --table ""
exactly "no source, no tables" "" "$BARGE" copy --tables ""
has "files for --state" plan.yaml shop.db -- "$BARGE" status --state ""
finish
