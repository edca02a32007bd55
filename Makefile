# pktscope — the two commands a newcomer needs: `make run` and `make test`.
# Everything goes through meson/ninja; this file only strings the steps together.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
SAMPLE     ?= samples/lab.pcapng
FUZZ_SECONDS ?= 20

.PHONY: all deps build run test test-unit test-golden test-agree test-asan bench fuzz deb clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	@meson setup $(BUILD) --buildtype=release -Db_ndebug=false >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null

run: build
	$(BUILD)/pktscope read $(SAMPLE)

# Every test: unit (cmocka), golden, agreement with tshark on the shared corpus, and the
# unit + golden tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: build
	@scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

bench: build
	@bench/run.sh $(BUILD)/pktscope
	@bench/tui.sh $(BUILD)/pktscope
	@bench/egress.sh $(BUILD)
	@bench/daemon.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The Debian package, built from a copy of the tree's files: build-deb/pktscope_*.deb
deb: deps
	@rm -rf build-deb && mkdir -p build-deb/src
	@git ls-files -z | xargs -0 cp --parents -t build-deb/src
	@cd build-deb/src && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || { tail -20 ../build.log; exit 1; }
	@lintian build-deb/pktscope_*.changes || true
	@ls build-deb/pktscope_*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-deb
