# Orderbase — build, run and test.
#
#   make run    install missing system packages, build liborderbase.so, run the C quickstart
#   make test   every test: Swift suites, the C ABI test, the export check, the crash test,
#               the bindings, the REST server over HTTP and its schemathesis conformance run,
#               the Swift suites under ThreadSanitizer, and a bounded run of every fuzz harness
#   make fuzz   the fuzz harnesses for longer (FUZZ_SECONDS each, default 600; docs/fuzzing.md)
#   make cli    the `orderbase` command (serve, tenants, keys, import, export) in build/bin
#   make serve  build it and serve the REST API on the data directory under the project
#   make bench  the benchmark programs (Benchmarks/README.md); make bench-webhooks, make bench-rest
#
# Variables: CRASH_ITERATIONS (default 50), FUZZ_SECONDS (per harness; 40 in make test), CONFIG (release|debug for the C library and
# the command, default release), DATA_DIR (make serve's root, default data/server).

SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?= release
CRASH_ITERATIONS ?= 50
FUZZ_TARGETS := json expression mustache workflow call rest
CC ?= cc
CFLAGS ?= -O2 -g -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L
BUILD := build
LIBDIR := $(BUILD)/lib
BINDIR := $(BUILD)/bin
LIB := $(LIBDIR)/liborderbase.so
DATA := data
# tzdata: the IANA zone files behind the tenant time zone (calendar parts in expressions).
APT_PACKAGES := libleveldb-dev libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config tzdata
# Only for make test: valgrind for the memcheck run, Ruby with ffi and minitest for the gem,
# curl and jq for the documentation's REST walkthroughs (Tests/rest/test_docs.py runs them), openssl for
# the certificates of the notification TLS tests.
TEST_APT_PACKAGES := valgrind ruby ruby-ffi ruby-minitest curl jq openssl
LINK := -L$(LIBDIR) -lorderbase -Wl,-rpath,$(abspath $(LIBDIR))

.PHONY: all deps test-deps apt-install lib cli serve run test test-swift test-c test-python test-wheel test-ruby test-rest test-tsan test-fuzz fuzz fuzz-build python-wheel bench bench-files bench-inventory-instructions bench-payments bench-rest bench-webhooks clean

PYTHON ?= python3
VENV := $(BUILD)/venv

all: lib

# Installs only what is missing (apt-get update runs only then).
deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"
	@command -v swift >/dev/null || { echo "swift not found: install the Swift 6.3 toolchain (/opt/swift)"; exit 1; }

test-deps: deps
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# The library and the command are built with the Swift runtime linked in statically
# (-static-stdlib), in one scratch path of their own so they share every object: the
# library then needs only libleveldb, libcurl, libcrypto and libstdc++ where it is loaded
# (no Swift toolchain), the Python wheel bundles this same file, and a fresh clone compiles
# the release build once instead of twice (docs/decisions.md §36).
swift-build = swift build -c $(1) --scratch-path .build-static -Xswiftc -static-stdlib

# liborderbase.so with its SONAME links: liborderbase.so -> .so.0 -> .so.0.1.0
lib: deps
	$(call swift-build,$(CONFIG)) --product orderbase
	@mkdir -p $(LIBDIR)
	@cp -f "$$($(call swift-build,$(CONFIG)) --show-bin-path)/liborderbase.so" $(LIB).0.1.0
	@ln -sf liborderbase.so.0.1.0 $(LIB).0
	@ln -sf liborderbase.so.0 $(LIB)

# The `orderbase` command (SwiftPM names the product orderbase-cli: the library is `orderbase`).
CLI := $(BINDIR)/orderbase
cli: deps
	$(call swift-build,$(CONFIG)) --product orderbase-cli
	@mkdir -p $(BINDIR)
	@cp -f "$$($(call swift-build,$(CONFIG)) --show-bin-path)/orderbase-cli" $(CLI)

DATA_DIR ?= $(DATA)/server
serve: cli
	$(CLI) serve --data $(DATA_DIR)

$(BINDIR)/%: Tests/c/%.c include/orderbase.h | lib
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK) -lpthread -o $@

$(BINDIR)/quickstart: Examples/c/quickstart.c include/orderbase.h | lib
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK) -o $@

run: lib $(BINDIR)/quickstart
	@mkdir -p $(DATA)
	$(BINDIR)/quickstart $(DATA)/quickstart

C_TESTS := $(BINDIR)/abi_test $(BINDIR)/crash_test $(BINDIR)/crash_child

# Generated code first: record fields are declared once in Tools/codegen/ (order_fields.py, record_fields.py).
test-swift: deps
	$(PYTHON) Tools/codegen/order_fields.py --check
	$(PYTHON) Tools/codegen/record_fields.py --check
	swift test

test-c: lib $(C_TESTS) $(BINDIR)/quickstart
	bash Tests/c/check_exports.sh $(LIB).0.1.0 include/orderbase.h
	$(BINDIR)/abi_test
	@# valgrind 3.19 gives up on the library's DWARF 5 debug info: memcheck a copy
	@# without it (the symbol table, which the suppressions name, stays).
	@if command -v valgrind >/dev/null; then \
	  rm -rf $(BUILD)/lib-memcheck && mkdir -p $(BUILD)/lib-memcheck && \
	  strip --strip-debug -o $(BUILD)/lib-memcheck/liborderbase.so.0 $(LIB).0.1.0 && \
	  LD_LIBRARY_PATH=$(abspath $(BUILD)/lib-memcheck) valgrind -q --suppressions=Tests/c/valgrind.supp --error-exitcode=9 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite $(BINDIR)/abi_test >/dev/null \
	    && echo "abi_test under valgrind: no memory errors, no definite leaks"; \
	else echo "valgrind not installed: memcheck run skipped"; fi
	$(BINDIR)/crash_test $(BINDIR)/crash_child $(CRASH_ITERATIONS)
	@rm -rf $(BUILD)/quickstart-test && $(BINDIR)/quickstart $(BUILD)/quickstart-test > $(BUILD)/quickstart.out
	@grep -q '"ok":true' $(BUILD)/quickstart.out && echo "quickstart example: ok"

# Python: the package installed with pip into a venv, tested with pytest against
# the library just built (pytest is installed into the venv when missing).
$(VENV)/.installed: Bindings/python/pyproject.toml $(wildcard Bindings/python/src/orderbase/*.py)
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/python -c "import pytest" 2>/dev/null || $(VENV)/bin/pip install -q "pytest>=7"
	$(VENV)/bin/pip install -q --force-reinstall --no-deps ./Bindings/python
	@touch $@

test-python: lib $(VENV)/.installed
	ORDERBASE_LIBRARY=$(abspath $(LIB)) $(VENV)/bin/python -m pytest -q Bindings/python/tests
	ORDERBASE_LIBRARY=$(abspath $(LIB)) $(VENV)/bin/python Examples/python/quickstart.py $(BUILD)/quickstart-python > $(BUILD)/quickstart-python.out
	@grep -q '"ok": true' $(BUILD)/quickstart-python.out && echo "python quickstart: ok"

# A wheel that bundles the release liborderbase.so (self-contained: see swift-build;
# after make lib, nothing to compile).
python-wheel: deps
	$(call swift-build,release) --product orderbase
	@rm -rf Bindings/python/src/orderbase/lib $(BUILD)/wheels && mkdir -p Bindings/python/src/orderbase/lib
	cp "$$($(call swift-build,release) --show-bin-path)/liborderbase.so" Bindings/python/src/orderbase/lib/liborderbase.so
	$(PYTHON) -m pip wheel -q --no-deps -w $(BUILD)/wheels ./Bindings/python; rc=$$?; \
	  rm -rf Bindings/python/src/orderbase/lib Bindings/python/build; exit $$rc
	@ls $(BUILD)/wheels/*.whl

# The wheel, installed in a fresh venv outside the checkout, loads its own copy.
test-wheel: python-wheel
	@d=$$(mktemp -d) && $(PYTHON) -m venv $$d/venv && $$d/venv/bin/pip install -q $(abspath $(BUILD))/wheels/*.whl \
	  && (cd $$d && env -u ORDERBASE_LIBRARY -u LD_LIBRARY_PATH $$d/venv/bin/python -c \
	  "import orderbase, sys; p = orderbase.library_path; assert '/site-packages/orderbase/lib/' in p, p; \
	   e = orderbase.Engine('r'); e.tenants.create('t'); t = e.tenant('t'); \
	   o = t.orders.create(line_items=[{'title': 'x', 'quantity': 1, 'unit_price': 5}]); assert o['total'] == 5; \
	   e.close(); print('wheel: loads its bundled library:', p)"); rc=$$?; rm -rf $$d; exit $$rc

# Ruby: minitest against the library just built, the quickstart, and the gem
# built from its gemspec, installed into a scratch GEM_HOME and loaded from there.
test-ruby: lib
	ORDERBASE_LIBRARY=$(abspath $(LIB)) ruby -e 'Dir["Bindings/ruby/test/test_*.rb"].sort.each { |f| require "./#{f}" }'
	ORDERBASE_LIBRARY=$(abspath $(LIB)) ruby -IBindings/ruby/lib Examples/ruby/quickstart.rb $(BUILD)/quickstart-ruby > $(BUILD)/quickstart-ruby.out
	@grep -q '"ok":true' $(BUILD)/quickstart-ruby.out && echo "ruby quickstart: ok"
	@d=$$(mktemp -d) && (cd Bindings/ruby && gem build -q orderbase.gemspec -o $$d/orderbase.gem >/dev/null) \
	  && GEM_HOME=$$d/gems gem install -q --local --ignore-dependencies $$d/orderbase.gem >/dev/null \
	  && (cd $$d && GEM_HOME=$$d/gems GEM_PATH=$$d/gems:$$(gem env gempath) ORDERBASE_LIBRARY=$(abspath $(LIB)) \
	      ruby -e 'require "orderbase"; raise "not the gem" unless $$LOADED_FEATURES.grep(/gems\/orderbase-0.1.0/).any?; \
	               puts "gem: builds, installs and loads (library #{Orderbase.library_version})"'); rc=$$?; rm -rf $$d; exit $$rc

# The REST server over real HTTP (pytest + requests) and the schemathesis
# conformance run against its own /v1/openapi.json.
$(VENV)/.rest-tools: Tests/rest/requirements.txt
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install -q -r Tests/rest/requirements.txt
	@touch $@

# Against the `orderbase` command users run (the release build, as `make cli` makes it):
# the debug build made the schemathesis run server-bound (its background jobs decode
# every order) and took 19 minutes instead of 9.
test-rest: deps lib cli $(VENV)/.installed $(VENV)/.rest-tools
	cd Tests/rest && ORDERBASE_CLI="$(abspath $(CLI))" ORDERBASE_LIB_DIR="$(abspath $(LIBDIR))" \
	  ORDERBASE_LIBRARY="$(abspath $(LIB))" \
	  $(abspath $(VENV))/bin/python -m pytest -q -p no:cacheprovider .

# The Swift suites again under ThreadSanitizer (group commit, the delivery thread,
# concurrent writers, handles): any data race it reports fails the suite.
test-tsan: deps
	TSAN_OPTIONS=halt_on_error=1 swift test --sanitize=thread --scratch-path .build-tsan

# The fuzz harnesses (Fuzz/Harness, docs/fuzzing.md), built with libFuzzer, AddressSanitizer
# and its leak checker. Each runs FUZZ_SECONDS from the committed seed corpus (new inputs go
# to build/fuzz/corpus, findings to build/fuzz/); a crash, a leak, a broken property, an
# input slower than 10 s or over 2 GiB fails the run (leaks in the stateless harnesses:
# the call and rest harnesses' engine keeps caches LeakSanitizer cannot trace). gold cannot link
# the sanitizer runtimes here; lld can.
FUZZ_BIN := .build-fuzz/debug/OrderbaseFuzz
fuzz-build: deps
	swift build --product OrderbaseFuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld

define run-fuzz
	@mkdir -p $(BUILD)/fuzz; total=0; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz/corpus/$$t; \
	  leaks=1; case $$t in call|rest) leaks=0;; esac; \
	  ORDERBASE_FUZZ_TARGET=$$t SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=$$leaks LSAN_OPTIONS=suppressions=Fuzz/lsan.supp:print_suppressions=0 $(FUZZ_BIN) -max_total_time=$(1) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -detect_leaks=$$leaks \
	    -artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/corpus/$$t Fuzz/corpus/$$t > $(BUILD)/fuzz/$$t.log 2>&1 \
	    || { tail -60 $(BUILD)/fuzz/$$t.log; echo "fuzz: $$t FOUND SOMETHING (build/fuzz/$$t.log, build/fuzz/$$t-*)"; exit 1; }; \
	  runs=$$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(BUILD)/fuzz/$$t.log | grep -o '[0-9]*$$'); \
	  echo "fuzz: $$t $$runs executions in $(1) s, no finding"; total=$$((total + runs)); \
	done; echo "fuzz: $$total executions in all, no finding"
endef

test-fuzz: fuzz-build
	$(call run-fuzz,$(or $(FUZZ_SECONDS),40))

fuzz: fuzz-build
	$(call run-fuzz,$(or $(FUZZ_SECONDS),600))

# Runs every suite even when one fails, then prints one summary line.
test: test-deps
	@passed=0; failed=0; \
	for t in test-swift test-c test-python test-wheel test-ruby test-rest test-tsan test-fuzz; do \
	  start=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$t; then passed=$$((passed+1)); r=passed; else failed=$$((failed+1)); r=FAILED; fi; \
	  echo "suite $$t $$r ($$(( $$(date +%s) - start )) s, builds included)"; \
	done; \
	echo "suites: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

bench: lib
	@mkdir -p $(BINDIR)
	$(CC) -O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude Benchmarks/bench.c $(LINK) -lleveldb -lz -lpthread -lm -o $(BINDIR)/bench
	$(BINDIR)/bench $(BENCH_ARGS)

# Stock commitment and routing (Benchmarks/inventory_bench.c): create with commitment vs
# without, 8 threads on one hot SKU (zero oversell), routing over 50 locations.
bench-inventory: lib
	@mkdir -p $(BINDIR)
	$(CC) -O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude Benchmarks/inventory_bench.c $(LINK) -lpthread -o $(BINDIR)/inventory_bench
	@rm -rf $(BUILD)/inventory-bench && mkdir -p $(BUILD)/inventory-bench
	$(BINDIR)/inventory_bench $(BUILD)/inventory-bench $(INVENTORY_BENCH_ARGS)

# The same create counted in instructions (Benchmarks/create_instructions.c under callgrind,
# only inside its create loop): deterministic where timed rounds swing. CREATES each (default 300).
bench-inventory-instructions: lib
	@$(MAKE) --no-print-directory apt-install PACKAGES=valgrind
	@mkdir -p $(BINDIR) $(BUILD)/callgrind
	$(CC) -O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude Benchmarks/create_instructions.c $(LINK) -o $(BINDIR)/create_instructions
	@# valgrind 3.19 cannot read the library's DWARF 5: count a copy without it (as test-c does).
	@strip --strip-debug -o $(BUILD)/callgrind/liborderbase.so.0 $(LIB).0.1.0
	@set -o pipefail; n=$(or $(CREATES),300); for k in untracked tracked; do \
	  rm -rf $(BUILD)/callgrind/$$k; \
	  LD_LIBRARY_PATH=$(abspath $(BUILD)/callgrind) valgrind -q --tool=callgrind --toggle-collect=create_orders \
	    --callgrind-out-file=$(BUILD)/callgrind/$$k.out $(BINDIR)/create_instructions $(BUILD)/callgrind/$$k $$k $$n || exit 1; \
	  echo "$$k $$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' $(BUILD)/callgrind/$$k.out) $$n"; \
	done | awk '{ per[$$1] = $$2 / $$3; printf "create, 3 lines %-9s %9.0f instructions per create (%d creates)\n", $$1, per[$$1], $$3 } \
	  END { printf "ratio %.3f (untracked / tracked; the timed goal is >= 0.80)\n", per["untracked"] / per["tracked"] }'

# refunds.calculate and refunds.create on a 25-line order against a read and a write of it (Benchmarks/payments_bench.c).
bench-payments: lib
	@mkdir -p $(BINDIR)
	$(CC) -O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude Benchmarks/payments_bench.c $(LINK) -o $(BINDIR)/payments_bench
	@rm -rf $(BUILD)/payments-bench && mkdir -p $(BUILD)/payments-bench
	$(BINDIR)/payments_bench $(BUILD)/payments-bench $(PAYMENTS_BENCH_ARGS)

# Attachment upload and download against cp and read() of the same file (Benchmarks/files_bench.c).
bench-files: lib
	@mkdir -p $(BINDIR)
	$(CC) -O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude Benchmarks/files_bench.c $(LINK) -o $(BINDIR)/files_bench
	@rm -rf $(BUILD)/files-bench && mkdir -p $(BUILD)/files-bench
	$(BINDIR)/files_bench $(BUILD)/files-bench $(FILES_BENCH_ARGS)

# Webhooks to a loopback receiver vs a bare HTTP client loop (Benchmarks/webhook_bench.py).
bench-webhooks: lib $(VENV)/.installed
	ORDERBASE_LIBRARY=$(abspath $(LIB)) $(VENV)/bin/python Benchmarks/webhook_bench.py $(WEBHOOK_BENCH_ARGS)

# REST vs the C ABI (Benchmarks/rest_bench.py): wrk on loopback against
# `orderbase serve`, abi_calls.c in-process, the same calls in the same run.
REST_BENCH_ARGS ?=
bench-rest: lib cli
	@$(MAKE) --no-print-directory apt-install PACKAGES=wrk
	@mkdir -p $(BINDIR)
	$(CC) -O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude Benchmarks/abi_calls.c $(LINK) -lpthread -o $(BINDIR)/abi_calls
	$(PYTHON) Benchmarks/rest_bench.py --cli $(CLI) --abi $(BINDIR)/abi_calls $(REST_BENCH_ARGS)

clean:
	rm -rf $(BUILD) .build
