# Concierge: the two set-up commands are `make demo` and `make test`.
# Both install missing Debian packages first (scripts/install-deps.sh).

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 10
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo tour asan fuzz bench format clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD_DIR)/bin/concierge

# Each mechanism on its own: measured boot, TPM, SEV-SNP, TDX, appraisal.
tour: build
	@./scripts/tour.sh $(BUILD_DIR)/bin/concierge

# The same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCONCIERGE_SANITIZE=ON \
	  -DCONCIERGE_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS)

# Every libFuzzer target for FUZZ_SECONDS each, seeded from the shared vectors.
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCONCIERGE_FUZZ=ON -DCONCIERGE_TESTS=OFF -DCONCIERGE_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS)
	@./scripts/run-fuzzers.sh $(FUZZ_DIR)/bin $(FUZZ_SECONDS)

bench: BUILD_TYPE = Release
bench: BUILD_DIR = build-release
bench: build
	@./bench/replay_ratios.sh $(BUILD_DIR)/bin/concierge_bench
	@./bench/quote_ratios.sh $(BUILD_DIR)/bin/concierge_bench
	@./bench/snp_ratios.sh $(BUILD_DIR)/bin/concierge_bench
	@./bench/dcap_ratios.sh $(BUILD_DIR)/bin/concierge_bench
	@./bench/appraise_ratios.sh $(BUILD_DIR)/bin/concierge_bench
	@./bench/kbs_load.sh $(BUILD_DIR)
	@./bench/cli_vs_tpm2_eventlog.sh $(BUILD_DIR)/bin/concierge

format:
	@find src include tools tests fuzz bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR) build-release
