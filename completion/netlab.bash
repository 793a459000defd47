# bash completion for netlab(1).
#
# The candidates come from `netlab __complete WORD...` (src/cli/complete.c):
# verbs and options from netlab's own verb table, running labs and their
# nodes from /run/netlab.  This script only turns its answer into
# COMPREPLY, so a new verb or option needs no change here.
_netlab()
{
	local cur words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		# "=" stays in the word: --format=svg is one word for netlab.
		_init_completion -n = || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
	fi
	COMPREPLY=()
	local line prefix=
	# Readline replaces only what follows a "=" (a word break): answer
	# with the value alone.
	if [[ $cur == --*=* && $COMP_WORDBREAKS == *=* ]]; then
		prefix=${cur%%=*}=
	fi
	while IFS= read -r line; do
		case $line in
		:topo)
			if declare -F _filedir >/dev/null 2>&1; then
				_filedir topo
			else
				compopt -o filenames 2>/dev/null
				COMPREPLY+=($(compgen -d -- "$cur") $(compgen -f -X '!*.topo' -- "$cur"))
			fi
			;;
		:files)
			if declare -F _filedir >/dev/null 2>&1; then
				cur=${cur#"$prefix"} _filedir
			else
				compopt -o filenames 2>/dev/null
				COMPREPLY+=($(compgen -f -- "${cur#"$prefix"}"))
			fi
			;;
		:commands)
			COMPREPLY+=($(compgen -c -- "$cur"))
			;;
		'') ;;
		*)
			line=${line%%$'\t'*}
			COMPREPLY+=("${line#"$prefix"}")
			;;
		esac
	done < <("${words[0]}" __complete "${words[@]:1:cword}" 2>/dev/null)
}
complete -F _netlab netlab
