# netlab — build, test, install.  `make help` lists the targets.
# The version of the source: bumped with every user-visible change, with
# an entry at the top of NEWS (and debian/changelog); tests/cli checks
# that the three agree.
VERSION := 0.11.5
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/netlab
BASH_COMPLETION_DIR ?= $(DATADIR)/bash-completion/completions
ZSH_COMPLETION_DIR  ?= $(DATADIR)/zsh/site-functions
BUILD   ?= build
CC      ?= cc

# `git describe` of the checkout, for `netlab --version`; a tree exported
# without .git (a tarball, `make deb`'s copy) may carry it in .git-describe,
# and otherwise the version stands alone.  Only this tree's own git: one
# unpacked inside another repository must not take that one's description.
GIT_DESCRIBE := $(shell if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	git describe --tags --always --dirty 2>/dev/null; else cat .git-describe 2>/dev/null; fi)

PKGS     := libnl-3.0 libnl-route-3.0 libmnl libiptc json-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wswitch-default \
	-Wno-format-nonliteral
CFLAGS  ?= -O2 -g -D_FORTIFY_SOURCE=2
# Bind every symbol at start: node inits are forked from the supervisor by
# the thousand, and lazy binding would make each of them resolve (and
# copy-on-write) the same PLT slots again.
LDFLAGS ?=
ALL_LDFLAGS := -Wl,-z,now -Wl,-z,relro $(LDFLAGS)
ALL_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -Isrc -I$(BUILD) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN := -fsanitize=address,undefined
endif

CLI_SRCS := src/main.c $(wildcard src/cli/*.c)
LIB_SRCS := $(filter-out $(CLI_SRCS),$(wildcard src/*.c src/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(INTEG_SRCS:tests/integration/%.c=$(BUILD)/tests/%)

.PHONY: all clean install uninstall man docs deb check-deb cli test unit unit-asan integration e2e corpus e2e-asan fuzz fuzz-corpus fuzz-test faults faults-quick bench deps help format

all: netlab

help:
	@echo "make            build ./netlab"
	@echo "make test       install deps if missing, build, run cli (help, man, completion, install), the package check, unit (plain + ASan/UBSan), corpus, fuzz (bounded), integration, end-to-end and quick fault-injection tests"
	@echo "make unit       cmocka unit tests only"
	@echo "make bench      benchmark against ip scripts, ip -batch, Mininet and the kernel floor (root; writes docs/performance.md)"
	@echo "make fuzz       libFuzzer run of the topology parser and planner (FUZZ_SECONDS, default 60)"
	@echo "make faults     the fault-injection suite: kills and failing system calls during up (root)"
	@echo "make man        manual pages netlab(1) and netlab.topo(5) into $(BUILD)/man (pandoc)"
	@echo "make docs       regenerate the parts of docs/cli.md and README.md made from src/cli/verbs.c"
	@echo "make install    binary, manual pages, completions, examples, docs under \$$DESTDIR\$$PREFIX (/usr/local)"
	@echo "make uninstall  remove what make install installed"
	@echo "make deb        build the Debian package into $(BUILD)/deb (dpkg-buildpackage, then lintian)"
	@echo "make check-deb  make deb, then check the package: contents, install into a throwaway root, run it"
	@echo "make cli        tests of the command line's conventions (help, man pages, completion, install, docs)"

netlab: $(BUILD)/netlab
	cp $< $@

# json-c linked statically when its archive is there (Debian's libjson-c-dev
# has it): one shared library less to load on every `netlab exec`.
JSONC_A := $(shell $(CC) -print-file-name=libjson-c.a)
NETLAB_LIBS := $(if $(filter /%,$(JSONC_A)),$(patsubst -ljson-c,$(JSONC_A),$(PKG_LIBS)),$(PKG_LIBS))

$(BUILD)/netlab: $(CLI_OBJS) $(BUILD)/libnetlab.a
	$(CC) $(LDSAN) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libnetlab.a $(NETLAB_LIBS)

$(BUILD)/libnetlab.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Rewritten only when the version or the description changes, so that a
# commit relinks netlab, not more.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@printf '#define NETLAB_VERSION "%s"\n#define NETLAB_GIT "%s"\n' '$(VERSION)' '$(GIT_DESCRIBE)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/src/cli/version.o: $(BUILD)/version.h
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnetlab.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(BUILD)/libnetlab.a $(PKG_LIBS) $(CMOCKA_LIBS) $(LDSAN)

$(BUILD)/tests/%: tests/integration/%.c $(BUILD)/libnetlab.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(BUILD)/libnetlab.a $(PKG_LIBS) $(CMOCKA_LIBS) $(LDSAN)

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

deps:
	scripts/install-deps.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

unit-asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 CFLAGS="-O1 -g" unit

integration: $(INTEG_BINS)
	@scripts/run-unit.sh --sandbox $(INTEG_BINS)

corpus: netlab
	@tests/corpus/run.sh ./netlab

e2e: netlab
	@tests/e2e/run.sh ./netlab

# The lifecycle, bad-state and host-sharing tests again with an ASan/UBSan
# netlab (supervisor and inits included).  Leak checking is off: LeakSanitizer
# cannot stop the world of a process that joined a node's namespaces.
E2E_ASAN_TESTS := test_lifecycle test_bad_state test_host_share
e2e-asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 CFLAGS="-O1 -g" build-asan/netlab
	@ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		tests/e2e/run.sh build-asan/netlab $(E2E_ASAN_TESTS)

test: deps
	$(MAKE) all
	$(MAKE) cli
	$(MAKE) check-deb
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) corpus
	$(MAKE) fuzz-test
	$(MAKE) integration
	$(MAKE) e2e
	$(MAKE) e2e-asan
	$(MAKE) faults-quick

FUZZ_SECONDS ?= 60
FUZZ_SRCS := tests/fuzz/fuzz_parser.c $(wildcard src/topo/*.c src/plan/*.c) src/net/iptc.c src/net/qdisc.c src/net/nlsock.c src/net/bpf.c src/net/netns.c \
	src/util/error.c src/util/strutil.c src/util/vec.c src/util/fsutil.c
build-fuzz/fuzz_parser: $(FUZZ_SRCS) $(wildcard src/*/*.h)
	@mkdir -p build-fuzz
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ $(FUZZ_SRCS) $(PKG_LIBS)

# The corpus: what is checked in (tests/fuzz/regress: inputs that found
# bugs, and a corpus that covers the language), the examples and the bad
# topologies; what a run learns stays in build-fuzz/corpus.
fuzz-corpus:
	@mkdir -p build-fuzz/corpus
	@cp tests/fuzz/regress/* topologies/*.topo tests/corpus/bad/*.topo tests/corpus/good/*.topo build-fuzz/corpus/ 2>/dev/null || true

fuzz: build-fuzz/fuzz_parser fuzz-corpus
	build-fuzz/fuzz_parser -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix=build-fuzz/ build-fuzz/corpus

# `make test`: every checked-in input once, then a bounded run.
FUZZ_TEST_SECONDS ?= 20
fuzz-test: build-fuzz/fuzz_parser fuzz-corpus
	@build-fuzz/fuzz_parser -runs=0 -timeout=10 -rss_limit_mb=1024 tests/fuzz/regress >build-fuzz/regress.log 2>&1 \
		|| { tail -30 build-fuzz/regress.log; echo "fuzz: a checked-in input fails again"; exit 1; }
	@echo "fuzz: $$(ls tests/fuzz/regress | wc -l) checked-in inputs replayed"
	@build-fuzz/fuzz_parser -max_total_time=$(FUZZ_TEST_SECONDS) -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix=build-fuzz/ build-fuzz/corpus >build-fuzz/fuzz.log 2>&1 \
		|| { tail -30 build-fuzz/fuzz.log; echo "fuzz: a new crash: build-fuzz/crash-* (add it to tests/fuzz/regress once fixed)"; exit 1; }
	@echo "fuzz: $$(grep -o 'Done [0-9]* runs' build-fuzz/fuzz.log) in $(FUZZ_TEST_SECONDS) s, no crash"

# The fault-injection suite (tests/faults/run.sh): `make faults` runs it
# all (about 400 trials, a few minutes), `make test` its quick form.
faults: netlab
	@tests/faults/run.sh ./netlab full

faults-quick: netlab
	@tests/faults/run.sh ./netlab quick

# The kernel floor for `make bench`: netlink with libmnl only, no netlab code.
$(BUILD)/bench-floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(shell pkg-config --libs libmnl 2>/dev/null)

$(BUILD)/bench-time: bench/time.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

bench: netlab $(BUILD)/bench-floor $(BUILD)/bench-time
	scripts/bench.sh

# ---- documentation, installation, packaging ---------------------------

# The date of the manual pages: that of the version, from the top of NEWS.
NEWS_DATE := $(shell sed -n 's/^netlab [0-9.]* (\(.*\))$$/\1/p' NEWS 2>/dev/null | head -1)
PANDOC_MAN = pandoc -s -f gfm -t man --lua-filter scripts/man.lua -M header="netlab manual" \
	-M footer="netlab $(VERSION)" -M date="$(NEWS_DATE)"
MANPAGES := $(BUILD)/man/netlab.1 $(BUILD)/man/netlab.topo.5

man: $(MANPAGES)

# Say what is missing rather than "pandoc: command not found".
HAVE_PANDOC = @command -v pandoc >/dev/null || { echo "make: the manual pages need pandoc (apt-get install pandoc)" >&2; exit 1; }

$(BUILD)/man/netlab.1: docs/cli.md scripts/man.lua NEWS
	$(HAVE_PANDOC)
	@mkdir -p $(dir $@)
	$(PANDOC_MAN) -M title=netlab -M section=1 -o $@ $<

$(BUILD)/man/netlab.topo.5: docs/topology.md scripts/man.lua NEWS
	$(HAVE_PANDOC)
	@mkdir -p $(dir $@)
	$(PANDOC_MAN) -M title=netlab.topo -M section=5 \
		-M whatis="netlab.topo - the topology language of netlab(1)" -o $@ $<

docs: netlab
	scripts/gen-docs.sh ./netlab

EXAMPLES := $(wildcard topologies/*.topo)
DOCS := README.md NEWS $(wildcard docs/*.md) $(wildcard docs/*.png)

install: netlab man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASH_COMPLETION_DIR) $(DESTDIR)$(ZSH_COMPLETION_DIR) \
		$(DESTDIR)$(DATADIR)/netlab/topologies $(DESTDIR)$(DOCDIR)
	install -m 0755 netlab $(DESTDIR)$(BINDIR)/netlab
	install -m 0644 $(BUILD)/man/netlab.1 $(DESTDIR)$(MANDIR)/man1/netlab.1
	install -m 0644 $(BUILD)/man/netlab.topo.5 $(DESTDIR)$(MANDIR)/man5/netlab.topo.5
	install -m 0644 completion/netlab.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/netlab
	install -m 0644 completion/_netlab $(DESTDIR)$(ZSH_COMPLETION_DIR)/_netlab
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DATADIR)/netlab/topologies/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/

# Files only: directories may be shared with other packages.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/netlab $(DESTDIR)$(MANDIR)/man1/netlab.1 \
		$(DESTDIR)$(MANDIR)/man5/netlab.topo.5 $(DESTDIR)$(BASH_COMPLETION_DIR)/netlab \
		$(DESTDIR)$(ZSH_COMPLETION_DIR)/_netlab
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/netlab/topologies/,$(notdir $(EXAMPLES)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	-rmdir $(DESTDIR)$(DATADIR)/netlab/topologies $(DESTDIR)$(DATADIR)/netlab $(DESTDIR)$(DOCDIR) 2>/dev/null

# The package is built from a copy of the committed tree (plus the work
# tree's changes to tracked files), as from a release tarball: nothing is
# written outside $(BUILD)/deb, and the copy carries the git description
# in .git-describe for `netlab --version`.
deb:
	scripts/make-deb.sh $(BUILD)/deb

check-deb: deb
	tests/cli/check-deb.sh $(BUILD)/deb

cli: netlab man
	@tests/cli/run.sh ./netlab

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h tests/*/*.c)

clean:
	rm -rf build build-asan build-fuzz netlab
