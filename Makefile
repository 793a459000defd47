# netlab — build, test, install.  `make help` lists the targets.
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

PKGS     := libnl-3.0 libnl-route-3.0 libmnl libiptc json-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wswitch-default \
	-Wno-format-nonliteral
CFLAGS  ?= -O2 -g
# Bind every symbol at start: node inits are forked from the supervisor by
# the thousand, and lazy binding would make each of them resolve (and
# copy-on-write) the same PLT slots again.
LDFLAGS ?=
ALL_LDFLAGS := -Wl,-z,now -Wl,-z,relro $(LDFLAGS)
ALL_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) $(CFLAGS)
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

.PHONY: all clean install test unit unit-asan integration e2e corpus e2e-asan fuzz fuzz-corpus fuzz-test faults faults-quick bench deps help format

all: netlab

help:
	@echo "make            build ./netlab"
	@echo "make test       install deps if missing, build, run unit (plain + ASan/UBSan), corpus, fuzz (bounded), integration, end-to-end and quick fault-injection tests"
	@echo "make unit       cmocka unit tests only"
	@echo "make bench      benchmark against ip scripts, ip -batch, Mininet and the kernel floor (root; writes docs/performance.md)"
	@echo "make fuzz       libFuzzer run of the topology parser and planner (FUZZ_SECONDS, default 60)"
	@echo "make faults     the fault-injection suite: kills and failing system calls during up (root)"
	@echo "make install    install to \$$DESTDIR\$$PREFIX/bin"

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
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) corpus
	$(MAKE) fuzz-test
	$(MAKE) integration
	$(MAKE) e2e
	$(MAKE) e2e-asan
	$(MAKE) faults-quick

FUZZ_SECONDS ?= 60
FUZZ_SRCS := tests/fuzz/fuzz_parser.c $(wildcard src/topo/*.c src/plan/*.c) src/net/iptc.c \
	src/util/error.c src/util/strutil.c src/util/vec.c src/util/fsutil.c
build-fuzz/fuzz_parser: $(FUZZ_SRCS)
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

install: netlab
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 netlab $(DESTDIR)$(PREFIX)/bin/netlab

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h tests/*/*.c)

clean:
	rm -rf build build-asan build-fuzz netlab
