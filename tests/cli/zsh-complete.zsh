#!/usr/bin/env zsh
# What zsh's completion system shows for a command line, for tests/cli:
# an interactive zsh on a pseudo-terminal (zpty) with completion/_netlab
# in its fpath gets the LINE and a TAB; its screen output, without
# terminal escapes, goes to standard output.
#
# usage: zsh -f tests/cli/zsh-complete.zsh NETLAB_DIR COMPLETION_DIR LINE
zmodload zsh/zpty || exit 1
setopt extendedglob
dir=$1 fdir=$2 line=$3
zpty z 'zsh -f -i'
zpty -w z "fpath=(${(q)fdir} \$fpath); PATH=${(q)dir}:\$PATH; autoload -Uz compinit; compinit -u -D; PS1='<P>'; print READY"
# Read until PATTERN shows up in what was read, or about 5 s went by.
out=
wait_for() {
	local c i
	for i in {1..50}; do
		while zpty -r -t z c; do out+=$c; done
		[[ $out == *$~1* ]] && return 0
		sleep 0.1
	done
	return 1
}
wait_for 'READY*<P>' || { print "zsh-complete: zsh did not start"; exit 1; }
out=
zpty -w -n z "$line"$'\t'
# The completion is drawn once the line is echoed back and settles.
wait_for "*${line[-3,-1]}*"
sleep 0.5
wait_for '*'
zpty -d z
print -r -- "${out//$'\e'\[[0-9;?]#[a-zA-Z]/}" | tr -d '\r\a'
