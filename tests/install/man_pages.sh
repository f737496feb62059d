# The man pages (written at build time by `barge man-pages`) against
# --help: a page for barge, every command and the plan file; every option
# a command's --help lists is in its rendered man page; groff finds nothing
# to warn about.
. "$BARGE_SRC/tests/integration/lib.bash"
: "${MAN_DIR:?}"

render() { groff -man -Tascii -P-cbou -ww "$1" 2>"$WORK/groff.err"; }

commands=$("$BARGE" --help | awk '/^  [a-z]/ { print $1 }')
check "barge --help lists the commands" [ "$(echo $commands | wc -w)" -ge 8 ]
for page in barge.1 barge-plan.5; do
	check "$page exists" [ -s "$MAN_DIR/$page" ]
	render "$MAN_DIR/$page" >/dev/null
	check "$page: no groff warnings" [ ! -s "$WORK/groff.err" ]
done
check "barge(1) names --version" bash -c "groff -man -Tascii -P-cbou '$MAN_DIR/barge.1' | grep -q -- '--version'"
check "barge-plan(5) names chunk_rows" bash -c "groff -man -Tascii -P-cbou '$MAN_DIR/barge-plan.5' | grep -q 'chunk_rows'"

for c in $commands; do
	page="$MAN_DIR/barge-$c.1"
	check "barge-$c.1 exists" [ -s "$page" ] || continue
	render "$page" >"$WORK/$c.txt"
	check "barge-$c.1: no groff warnings" [ ! -s "$WORK/groff.err" ]
	check "barge-$c.1 names the command" grep -q "barge $c" "$WORK/$c.txt"
	"$BARGE" "$c" --help >"$WORK/$c.help"
	opts=$(grep -oE '^  --[a-z-]+' "$WORK/$c.help" | tr -d ' ')
	check "$c --help lists options" [ -n "$opts" ]
	for o in $opts; do
		# as an item of its own (a line that starts with it), not a mention
		check "barge-$c.1 has $o" grep -qE -- "^ +$o( |$)" "$WORK/$c.txt"
	done
	# and the other way: an option in the page is in --help
	for o in $(grep -oE '^ +--[a-z-]+' "$WORK/$c.txt" | tr -d ' '); do
		check "$c --help has $o (from the page)" grep -qE -- "^  $o([^a-z-]|$)" "$WORK/$c.help"
	done
done
finish
