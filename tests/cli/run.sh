#!/usr/bin/env bash
# The conventions of the command line, without root and without a lab:
# every verb of the table has its --help, its man page section and its
# completion; options missing a value; the version agrees everywhere; the
# manual pages render without a warning; the generated documentation is
# current; completion in bash (and zsh when installed); JSON outputs that
# need no lab match docs/json.md; `check -`; install and uninstall into a
# DESTDIR.  Labs (exit codes, tables, status JSON, completion of lab and
# node names) are in tests/e2e/test_cli.sh.
#
# usage: tests/cli/run.sh NETLAB     (from make cli; needs make man first)
set -u
NETLAB=$(realpath "${1:-./netlab}")
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PASS=0
FAIL=0
T=$(mktemp -d /tmp/netlab-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok - cli: $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - cli: $*"; }
check() {
	local what=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$what"; else not_ok "$what ($(tail -3 "$T/out" | tr '\n' ' '))"; fi
}
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }
check_contains() {
	case "$3" in *"$2"*) ok "$1" ;; *) not_ok "$1 (no '$2' in: $(echo "$3" | head -c 300))" ;; esac
}

# The verbs, as `netlab --help` lists them (from the table).
verbs=$("$NETLAB" --help | sed -n '/^Verbs:/,/^$/p' | awk 'NF && $1 != "Verbs:" {print $1}')
check "netlab --help lists the verbs" test -n "$verbs"
for v in check graph up down status exec shell logs version help; do
	check_contains "verb $v is listed" " $v " " $(echo $verbs) "
done
# A verb's value-taking options, from its help: "--name LAB" (upper case).
value_opts() { "$NETLAB" "$1" --help | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z-]+ [A-Z]+' | cut -d' ' -f1; }
all_opts() { "$NETLAB" "$1" --help | sed -n '/^Options:/,/^$/p' | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'; }

# ---- help ---------------------------------------------------------------
for v in $verbs; do
	for h in --help -h; do
		out=$("$NETLAB" $v $h 2>"$T/err")
		rc=$?
		check_eq "$v $h exits 0" 0 $rc
		check_eq "$v $h writes nothing on stderr" "" "$(cat "$T/err")"
		check_contains "$v $h starts with the verb's usage" "usage: netlab $v" "$(echo "$out" | head -1)"
	done
	check_contains "$v --help lists --help" "-h, --help" "$("$NETLAB" $v --help)"
	check_eq "help $v is $v --help" "$("$NETLAB" $v --help)" "$("$NETLAB" help $v)"
	for o in $(value_opts $v); do
		err=$("$NETLAB" $v $o 2>&1 >/dev/null)
		rc=$?
		check_eq "$v $o without its value exits 2" 2 $rc
		check_contains "$v $o without its value says so" "option '$o' needs a value" "$err"
	done
	err=$("$NETLAB" $v --no-such-option 2>&1 >/dev/null)
	check_eq "$v --no-such-option exits 2" 2 $?
	check_contains "$v --no-such-option names it" "unknown option '--no-such-option'" "$err"
done
# --help wins wherever it is among the options; not in a command's words.
check_contains "up FILE --dry-run --help is help" "usage: netlab up" "$("$NETLAB" up x.topo --dry-run --help)"
check_eq "exec: a --help after NODE belongs to the command" "" \
	"$("$NETLAB" exec lab node ls --help 2>/dev/null | grep 'usage: netlab exec')"
check_contains "exec --help before the operands is netlab's" "usage: netlab exec" "$("$NETLAB" exec --help lab node ls)"
err=$("$NETLAB" up --nmae x 2>&1 >/dev/null)
check_contains "a mistyped option gets a suggestion" "did you mean '--name'?" "$err"
err=$("$NETLAB" stauts 2>&1 >/dev/null)
check_eq "an unknown verb exits 2" 2 $?
check_contains "an unknown verb gets a suggestion" "did you mean 'status'?" "$err"
"$NETLAB" >/dev/null 2>"$T/err"
check_eq "netlab alone exits 2" 2 $?
check_contains "netlab alone prints the usage on stderr" "usage: netlab VERB" "$(cat "$T/err")"
check "--name=VALUE is accepted" "$NETLAB" up topologies/two-webservers.topo --dry-run --name=other-name
check_contains "... and used" "other-name" "$("$NETLAB" up topologies/two-webservers.topo --dry-run --json --name=other-name)"
check "-oVALUE is accepted" "$NETLAB" graph topologies/two-webservers.topo "-o$T/g.dot"
check "... and writes there" test -s "$T/g.dot"
err=$("$NETLAB" check 2>&1 >/dev/null)
check_contains "a missing operand is named" "missing FILE" "$err"

# The usage is as wide as its contents: nothing cut, no line over 80.
usage=$(COLUMNS=80 "$NETLAB" --help)
check_eq "usage lines fit 80 columns" "" "$(echo "$usage" | awk 'length > 80')"
check_contains "the status summary is whole" "list labs, or show one lab's nodes, interfaces, commands, rules" \
	"$(echo "$usage" | tr -s ' \n' ' ')"
check_eq "help lines fit 60 columns when asked" "" "$(COLUMNS=60 "$NETLAB" up --help | awk 'length > 60')"

# ---- version --------------------------------------------------------------
make_version=$(sed -n 's/^VERSION := //p' Makefile)
news_version=$(sed -n 's/^netlab \([0-9][0-9.]*\) (.*)$/\1/p' NEWS | head -1)
deb_version=$(sed -n '1s/^netlab (\([^)]*\)).*/\1/p' debian/changelog)
check_eq "NEWS's newest entry is the Makefile's VERSION" "$make_version" "$news_version"
check_eq "debian/changelog's newest entry is the Makefile's VERSION" "$make_version" "$deb_version"
ver=$("$NETLAB" --version)
check "--version is 'netlab VERSION' with the git description" \
	grep -qE "^netlab $make_version( \(git [0-9a-f][^)]*\))?$" <<<"$ver"
if git rev-parse --git-dir >/dev/null 2>&1; then
	check_contains "--version has the git description of this checkout" "(git $(git describe --tags --always | cut -c1-7)" "$ver"
fi
# Out of git (a tarball): the version alone, or .git-describe when the
# export left one; inside another repository, not that one's description.
mkdir -p "$T/tarball"
cp Makefile "$T/tarball/"
make -s -C "$T/tarball" build/version.h >/dev/null 2>&1
check_contains "a tree without git builds with the version alone" 'NETLAB_GIT ""' "$(cat "$T/tarball/build/version.h" 2>&1)"
echo v0.9.0-3-gabc1234 >"$T/tarball/.git-describe"
make -s -C "$T/tarball" build/version.h >/dev/null 2>&1
check_contains "... or with its .git-describe" 'NETLAB_GIT "v0.9.0-3-gabc1234"' "$(cat "$T/tarball/build/version.h" 2>&1)"
(cd "$T/tarball" && git init -q && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m x) >/dev/null 2>&1
mkdir -p "$T/tarball/sub" && cp Makefile "$T/tarball/sub/"
make -s -C "$T/tarball/sub" build/version.h >/dev/null 2>&1
check_contains "... also inside another git repository" 'NETLAB_GIT ""' "$(cat "$T/tarball/sub/build/version.h" 2>&1)"
check_eq "-V is --version" "$ver" "$("$NETLAB" -V)"
check_eq "version is --version" "$ver" "$("$NETLAB" version)"
"$NETLAB" version --json >"$T/v.json"
check "version --json matches docs/json.md" tests/json_schema.py version "$T/v.json"
check "version --json has the version" grep -q "\"version\": \"$make_version\"" "$T/v.json"

# ---- JSON without a lab, and check - ---------------------------------------
# The checker fails on what it should fail on.
sed 's/"git"/"gti"/' "$T/v.json" >"$T/bad.json"
check "the schema checker rejects an undocumented member" \
	sh -c "! tests/json_schema.py version $T/bad.json >/dev/null"
for f in topologies/*.topo; do
	"$NETLAB" up "$f" --dry-run --json >"$T/plan.json"
	check "up --dry-run --json of $(basename "$f") matches docs/json.md" tests/json_schema.py plan "$T/plan.json"
	"$NETLAB" check "$f" --json >"$T/check.json"
	check "check --json of $(basename "$f") matches docs/json.md" tests/json_schema.py check "$T/check.json"
done
printf 'lab x\nnode a\n    ip eth0 10.0.0.1/24\n    rotue default via 10.0.0.254\nnode a\nlink a:eth0 nowhere\n' >"$T/bad.topo"
"$NETLAB" check "$T/bad.topo" --json >"$T/check.json"
check_eq "check --json of a bad topology exits 2" 2 $?
check "... and matches docs/json.md" tests/json_schema.py check "$T/check.json"
diags=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["valid"], d["errors"], *["%s:%d:%d:%s" % (g["file"].rsplit("/", 1)[-1], g["line"], g["column"], g["severity"]) for g in d["diagnostics"]])
' "$T/check.json")
text=$("$NETLAB" check "$T/bad.topo" 2>&1 | grep -oE '^[^ ]+:[0-9]+:[0-9]+: [a-z]+' | sed "s|^$T/||; s/: /:/" | tr '\n' ' ')
check_eq "check --json has every diagnostic of the text, with line, column, severity" \
	"False $(echo "$text" | grep -o ':error' | wc -l) $text" "$diags "
out=$("$NETLAB" check - <topologies/two-webservers.topo)
check_eq "check - reads standard input" "<stdin>: ok: lab 'two-webservers', 2 nodes, 1 switch, 2 links" "$out"
err=$("$NETLAB" check - <"$T/bad.topo" 2>&1)
check_eq "check - of a bad topology exits 2" 2 $?
check_contains "... naming <stdin>:LINE:COL" "<stdin>:4:5: error: unknown keyword 'rotue'" "$err"
printf 'node a\n' | "$NETLAB" check - --json >"$T/check.json"
check_contains "a lab read from stdin is named 'stdin'" '"lab": "stdin"' "$(cat "$T/check.json")"
check_eq "graph - reads standard input" "$("$NETLAB" graph topologies/two-webservers.topo)" \
	"$("$NETLAB" graph - <topologies/two-webservers.topo)"
err=$("$NETLAB" up - <topologies/two-webservers.topo 2>&1)
check_eq "up - (without --dry-run) is a usage error" 2 $?

# ---- documentation --------------------------------------------------------
check "docs/cli.md and README.md are current with the verb table (make docs)" scripts/gen-docs.sh --check "$NETLAB"
for page in "$BUILD/man/netlab.1" "$BUILD/man/netlab.topo.5"; do
	check "$(basename "$page") exists (make man)" test -s "$page"
	warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
	check_eq "man --warnings -l $(basename "$page") is clean" "" "$warn"
	check "lexgrog reads the NAME of $(basename "$page")" lexgrog "$page"
done
man1=$(MANWIDTH=200 man -l "$BUILD/man/netlab.1" 2>/dev/null)
for section in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
	check "netlab(1) has the section $section" grep -q "^$section\$" <<<"$man1"
done
for v in $verbs; do
	check "netlab(1) has a section for verb $v" grep -qE "^   netlab $v\$" <<<"$man1"
	sect=$(awk -v h="   netlab $v" '$0 == h {on = 1; next} /^   netlab / || /^[A-Z]/ {on = 0} on' <<<"$man1")
	for o in $(all_opts $v); do
		[ "$o" = --help ] && continue
		check "netlab(1) documents $v $o" grep -qF -- "$o" <<<"$sect"
	done
done
for env in NETLAB_RUN_DIR XTABLES_LOCKFILE NETLAB_LAB NETLAB_NODE; do
	check "netlab(1) documents \$$env" grep -q "$env" <<<"$man1"
done
check "netlab(1) documents exit status 3" grep -qE '^       3 +no +such +lab +or +node' <<<"$man1"
man5=$(MANWIDTH=200 man -l "$BUILD/man/netlab.topo.5" 2>/dev/null)
# Every statement documented in docs/topology.md ("### `stmt ...`").
grep -oE '^### `[a-z0-9]+' docs/topology.md | cut -d'`' -f2 | sort -u >"$T/stmts"
check "docs/topology.md has statements" test -s "$T/stmts"
while read -r s; do
	check "netlab.topo(5) documents '$s'" grep -qE "^   $s( |\$)" <<<"$man5"
done <"$T/stmts"

# ---- completion -------------------------------------------------------------
if [ -r /usr/share/bash-completion/bash_completion ]; then
	cat >"$T/comp.bash" <<EOF
. /usr/share/bash-completion/bash_completion
. completion/netlab.bash
PATH=$(dirname "$NETLAB"):\$PATH
comp() { COMP_LINE="\$*"; COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMP_POINT=\${#COMP_LINE}
	COMPREPLY=(); _netlab; printf '%s\n' "\${COMPREPLY[@]}" | sort | tr '\n' ' '; }
EOF
	comp() { bash -c ". $T/comp.bash; comp $(printf '%q ' "$@")"; }
	check_eq "bash: netlab st<TAB> completes status" "status " "$(comp netlab st)"
	check_eq "bash: netlab <TAB> offers every verb" "$(echo $verbs | tr ' ' '\n' | sort | tr '\n' ' ')" "$(comp netlab '')"
	check_eq "bash: netlab --v<TAB>" "--version " "$(comp netlab --v)"
	for v in $verbs; do
		got=$(comp netlab $v --)
		for o in $(all_opts $v); do
			check_contains "bash: netlab $v --<TAB> offers $o" " $o " " $got"
		done
	done
	check_eq "bash: a value from a list" "dot png svg " "$(comp netlab graph x.topo --format '')"
	check_eq "bash: --format=s<TAB>" "svg " "$(comp netlab graph x.topo --format=s)"
	check_eq "bash: .topo files" "topologies/three-routers.topo topologies/two-webservers.topo " \
		"$(comp netlab check topologies/t)"
	check_eq "bash: help VERB" "status " "$(comp netlab help sta)"
	check_eq "bash: a file for -o" "topologies " "$(comp netlab graph x.topo -o topolog)"
else
	echo "skip - cli: bash completion tests: /usr/share/bash-completion/bash_completion is missing (apt-get install bash-completion)"
fi
if command -v zsh >/dev/null && zsh -fc 'zmodload zsh/zpty' 2>/dev/null; then
	# A real interactive zsh with compinit, on a pseudo-terminal.
	zcomp() { zsh -f tests/cli/zsh-complete.zsh "$(dirname "$NETLAB")" completion "$1" 2>&1; }
	check_contains "zsh: netlab st<TAB> completes status" "netlab status " "$(zcomp 'netlab st')"
	out=$(zcomp 'netlab up --n')
	check_contains "zsh: options are listed with their description" \
		"--name         -- name the lab LAB instead of the topology's lab name" "$out"
	check_contains "zsh: ... every one of them" "--netns-names  -- also name" "$out"
	check_contains "zsh: .topo files" "netlab check topologies/two-webservers.topo" "$(zcomp 'netlab check topologies/tw')"
	check_contains "zsh: a value from a list" "netlab graph x.topo --format svg" "$(zcomp 'netlab graph x.topo --format s')"
else
	echo "skip - cli: zsh completion tests: zsh (with its zpty module) is not installed"
fi

# ---- make install / uninstall ----------------------------------------------
D=$T/destdir
make -s install DESTDIR="$D" PREFIX=/usr/local >"$T/install.log" 2>&1
check "make install DESTDIR=... PREFIX=/usr/local" test $? -eq 0
for f in bin/netlab share/man/man1/netlab.1 share/man/man5/netlab.topo.5 \
	share/bash-completion/completions/netlab share/zsh/site-functions/_netlab \
	share/netlab/topologies/two-webservers.topo share/doc/netlab/README.md share/doc/netlab/NEWS \
	share/doc/netlab/json.md share/doc/netlab/cli.md share/doc/netlab/topology.md; do
	check "installed $f" test -s "$D/usr/local/$f"
done
check_eq "every example topology is installed" "$(ls topologies/*.topo | wc -l)" \
	"$(ls "$D"/usr/local/share/netlab/topologies/*.topo | wc -l)"
check "the installed netlab is executable" test -x "$D/usr/local/bin/netlab"
check "the installed netlab runs" grep -qE "^netlab $make_version( |\$)" <<<"$("$D/usr/local/bin/netlab" --version)"
check "the installed examples pass check" "$D/usr/local/bin/netlab" check -q "$D/usr/local/share/netlab/topologies/nat-router.topo"
check_eq "the installed man page renders without warnings" "" \
	"$(MANWIDTH=80 man --warnings -l "$D/usr/local/share/man/man1/netlab.1" 2>&1 >/dev/null)"
check_eq "nothing is installed outside PREFIX" "usr" "$(ls "$D")"
make -s uninstall DESTDIR="$D" PREFIX=/usr/local >>"$T/install.log" 2>&1
check "make uninstall" test $? -eq 0
check_eq "make uninstall leaves no file" "" "$(find "$D" -type f -o -type l)"
make -s install DESTDIR="$D" PREFIX=/opt/nl MANDIR=/opt/man >>"$T/install.log" 2>&1
check "PREFIX and MANDIR are honoured" test -s "$D/opt/nl/bin/netlab" -a -s "$D/opt/man/man1/netlab.1"

echo "cli: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
