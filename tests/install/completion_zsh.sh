# The zsh completion (completions/_barge), autoloaded from fpath by zsh as
# compinit would and called with words/CURRENT/PREFIX set. Outside a
# completion widget zsh's compadd, compset and _files cannot run, so they
# are stood in for by functions that do what they do with the candidates
# (compadd keeps those starting with PREFIX; compset -P moves the matched
# prefix to IPREFIX); the logic that picks the candidates is the script's.
. "$BARGE_SRC/tests/integration/lib.bash"
command -v zsh >/dev/null || { bad "zsh is not installed (scripts/bootstrap installs it)"; finish; exit; }

sqlite3 shop.db "CREATE TABLE customers(id INTEGER PRIMARY KEY);
	CREATE TABLE orders(id INTEGER PRIMARY KEY, c INTEGER REFERENCES customers(id));
	CREATE TABLE order_items(o INTEGER REFERENCES orders(id), n INT, PRIMARY KEY (o, n));"
printf 'source: "sqlite:%s/shop.db"\ntarget: sqlite:out.db\n' "$WORK" > plan.yaml

# zcomplete WORD... : the candidates for the last word, sorted, one line
zcomplete() {
	zsh -f -c '
		compadd() {
			local c
			while [[ $# -gt 0 && $1 != -- ]]; do shift; done
			shift
			for c in "$@"; do [[ $c == ${PREFIX}* ]] && print -r -- "$IPREFIX$c"; done
		}
		compset() {
			[[ $1 == -P && $PREFIX == *,* ]] || return 1
			IPREFIX+=${PREFIX%,*},; PREFIX=${PREFIX##*,}
		}
		_files() { print -r -- "<files>"; }
		fpath=("$1" $fpath); shift
		autoload -Uz _barge
		words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}; IPREFIX=
		_barge' _ "$BARGE_SRC/completions" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
zexpect() { # zexpect "what" "WANT" WORD...
	local what=$1 want=$2 got; shift 2
	got=$(zcomplete "$@")
	if [ "$got" = "$want" ]; then ok; else bad "$what: got '$got', wanted '$want'"; fi
}

zexpect "commands by prefix" "rejects run" "$BARGE" r
zexpect "commands" "--help --version copy fix init inspect rejects run status verify" "$BARGE" ""
zexpect "copy options by prefix" "--max-failures --mode" "$BARGE" copy --m
zexpect "run's own options" "--table --tables" "$BARGE" run plan.yaml --tabl
zexpect "fix has no --against-state" "" "$BARGE" fix --ag
zexpect "mode values" "insert replace truncate upsert" "$BARGE" copy --mode ""
zexpect "rejects formats" "csv json text" "$BARGE" rejects --format ""
zexpect "tables of the source" "customers order_items orders" "$BARGE" copy sqlite:shop.db sqlite:out.db --tables ""
zexpect "tables after a comma" "customers,order_items customers,orders" "$BARGE" copy --jobs 2 sqlite:shop.db sqlite:o.db --tables customers,o
zexpect "tables from the plan's source" "customers order_items orders" "$BARGE" run plan.yaml --table ""
zexpect "files for --state" "<files>" "$BARGE" status --state ""
zexpect "files for a plan" "<files>" "$BARGE" run ""
finish
