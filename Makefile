# ferredis: `make run` starts the server, `make test` builds and runs every test.
CARGO ?= cargo
PORT ?= 6379

.PHONY: all build run test check fmt lint doc bench docker deps clean commands-table fuzz

all: build

build:
	$(CARGO) build --release

run: build
	./target/release/ferredis --port $(PORT) --dir redis_data

# Interop tests need Debian's redis-server and redis-tools; install them if missing.
deps:
	@command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null) || \
	  echo "warning: could not install redis-server/redis-tools; interop tests will be skipped"

# Each test starts its own server on a free port; a server's log is kept in
# its test's data directory (server.log) for diagnosis.
test: deps
	$(CARGO) build --release
	FERREDIS_REQUIRE_REDIS=1 $(CARGO) test --release

# Regenerates README.md's supported-commands table from the command table.
commands-table:
	UPDATE_README=1 $(CARGO) test --release --test readme

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps

check:
	$(CARGO) fmt --all -- --check
	$(MAKE) lint
	$(MAKE) test
	$(MAKE) doc

bench: build deps
	python3 bench/bench.py $(BENCH_ARGS)

docker:
	docker build -t ferredis .

clean:
	$(CARGO) clean

# Fuzzes the RESP parser and the command dispatcher for FUZZ_SECONDS each
# (needs a nightly toolchain and cargo-fuzz: `cargo install cargo-fuzz`).
FUZZ_SECONDS ?= 600
fuzz:
	cd fuzz && $(CARGO) +nightly fuzz run resp_parser -O -- -max_total_time=$(FUZZ_SECONDS)
	cd fuzz && $(CARGO) +nightly fuzz run dispatcher -O -- -max_total_time=$(FUZZ_SECONDS)
