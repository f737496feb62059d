# bash completion for barge. Installed as
# share/bash-completion/completions/barge; or: source completions/barge.bash
#
# Everything comes from barge itself, so it is never out of date: the
# commands from `barge --help`, a command's options (and the values of an
# option written "--opt a|b|c") from `barge COMMAND --help`, table names
# from `barge inspect SRC --format json --no-audit` for the source on the
# line (or the plan's source: line).

# The source URL of the line: the first argument after the command that is
# not an option or an option's value; for a plan file, its source: line.
_barge_source()
{
	local i w skip=0
	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then skip=0; continue; fi
		case $w in
		--*=*) ;;
		--*) [[ " $_barge_valued " == *" $w "* ]] && skip=1 ;;
		*.yaml | *.yml)
			[[ -r $w ]] && sed -n 's/^source:[[:space:]]*//p' "$w" | sed 's/[[:space:]]*#.*//; s/^"\(.*\)"$/\1/' | head -n1
			return ;;
		*) printf '%s\n' "$w"; return ;;
		esac
	done
}

# The table names of a source, in load order.
_barge_tables()
{
	local src=$1
	[[ -n $src ]] || return
	"$_barge_bin" inspect "$src" --format json --no-audit 2>/dev/null |
		grep -o '"load_order":\[[^]]*\]' |
		sed 's/^"load_order":\[//; s/\]$//' | tr ',' '\n' | sed 's/^"//; s/"$//'
}

_barge()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local _barge_bin=${COMP_WORDS[0]} cmd help values
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$("$_barge_bin" --help 2>/dev/null |
			awk '/^  [a-z]/ { print $1 }') --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	help=$("$_barge_bin" "$cmd" --help 2>/dev/null) || return
	# options that take a value: "  --opt ARG" in the help
	local _barge_valued
	_barge_valued=$(printf '%s\n' "$help" | awk '/^  --[a-z-]+ [^ ]/ { print $1 }' | tr '\n' ' ')
	case $prev in
	--tables | --table)
		local tables prefix=""
		tables=$(_barge_tables "$(_barge_source)")
		if [[ $prev == --tables && $cur == *,* ]]; then
			prefix=${cur%,*},
		fi
		COMPREPLY=($(compgen -P "$prefix" -W "$tables" -- "${cur##*,}"))
		return ;;
	--*)
		if [[ " $_barge_valued " == *" $prev "* ]]; then
			values=$(printf '%s\n' "$help" | awk -v o="$prev" '$1 == o { print $2; exit }')
			if [[ $values == *"|"* ]]; then
				COMPREPLY=($(compgen -W "${values//|/ }" -- "$cur"))
			elif [[ $values == FILE ]]; then
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" |
			grep -oE '^  --[a-z-]+' | tr -d ' ') --help" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _barge barge
