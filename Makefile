# Latchkey. Two commands on a fresh Debian machine with Rust and Node:
#   make run    install what is missing, build, serve http://127.0.0.1:8080 with demo data
#   make test   the whole suite: lints, cargo tests, Playwright in Debian's Chromium
# Every tool is installed here, idempotently; nothing may be installed by hand.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run
MAKEFLAGS += --no-print-directory

export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Trunk must never reach the network (no tool downloads, no version check).
export TRUNK_SKIP_VERSION_CHECK := true
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# The browser bundles name source files relative to their crate, not by where this machine
# keeps them: shorter panic locations, and no leak of the build machine's layout.
CARGO_HOME ?= $(HOME)/.cargo
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS := $(foreach d,$(wildcard $(CARGO_HOME)/registry/src/*) $(wildcard $(CARGO_HOME)/git/checkouts),--remap-path-prefix=$(d)/=) --remap-path-prefix=$(CURDIR)/=

TRUNK_VERSION := 0.21.14
# wasm-bindgen-cli must be exactly the wasm-bindgen in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;q;}' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The directory servers the directory conformance tests start (latchkey-directory-tests);
# without samba-ad-provision, provisioning a domain fails.
DIRECTORY_PACKAGES := slapd ldap-utils samba samba-ad-dc samba-ad-provision
# The test SMTP server (see test-tools).
SMTP_SINK := .venv/bin/aiosmtpd

FRONTEND_SOURCES := $(shell find app/src frontend/src style public -type f) \
	app/Cargo.toml frontend/Cargo.toml Cargo.toml Cargo.lock Trunk.toml

.PHONY: run release test tools test-tools frontend budget size-report lint debug-bin openapi cargo-test race fuzz e2e bench clean

## run: build and serve the portal with demo data on http://127.0.0.1:8080
run: release
	./target/release/latchkey serve --demo

## release: the one binary, target/release/latchkey, with the browser bundles embedded
## (what `make run` serves and the Dockerfile ships)
release: frontend
	cargo build --release --locked -p latchkey-server

## test: lints, the cargo test suite (SQLite and PostgreSQL), the three-server race
## test 10 times in a row, a minute of fuzzing (make fuzz) and the Playwright end-to-end tests
test: tools test-tools frontend
	$(MAKE) budget
	$(MAKE) lint
	$(MAKE) cargo-test
	$(MAKE) race
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(MAKE) e2e

## tools: the Wasm target, Trunk, wasm-bindgen-cli and wasm-opt (skips what is present)
tools: node_modules/.bin/wasm-opt
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown
	@[ "$$(trunk --version 2>/dev/null)" = "trunk $(TRUNK_VERSION)" ] \
		|| cargo install trunk --version $(TRUNK_VERSION) --locked
	@# Not --locked: its lockfile names a crate version the registry mirror lacks.
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@grep -q '^wasm_bindgen = "$(WASM_BINDGEN_VERSION)"' Trunk.toml \
		|| { echo "Trunk.toml's wasm_bindgen differs from Cargo.lock ($(WASM_BINDGEN_VERSION))"; exit 1; }

# wasm-opt from npm's binaryen, pinned in package-lock.json (Debian's binaryen breaks the Wasm).
node_modules/.bin/wasm-opt: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## test-tools: Debian's Chromium, brotli (the size budget), PostgreSQL, OpenLDAP and Samba
## AD, the Playwright packages and the test SMTP server (tests only; the tests start their
## own throwaway PostgreSQL clusters, slapd and Samba domain controllers: scripts/throwaway-*.sh)
test-tools: end2end/node_modules/.package-lock.json $(SMTP_SINK)
	@command -v chromium >/dev/null \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }
	@command -v brotli >/dev/null \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends brotli; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends postgresql; }
	@missing=$$(for p in $(DIRECTORY_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); [ -z "$$missing" ] || { $(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $$missing; }

# aiosmtpd, the real SMTP server the mail tests deliver to, and schemathesis (make fuzz),
# pinned in a virtualenv.
$(SMTP_SINK): server/tests/requirements.txt
	@python3 -m venv .venv 2>/dev/null \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends python3-venv \
			&& python3 -m venv --clear .venv; }
	.venv/bin/pip install --quiet --disable-pip-version-check -r server/tests/requirements.txt
	@touch $@

end2end/node_modules/.package-lock.json: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	@touch $@

## frontend: build the three Wasm bundles into dist/ (only when sources changed): the
## recovery portal, the signed-in portal (served at /sign-in, /account, /required) and the console
frontend: tools dist/portal/index.html dist/signed-in/index.html dist/console/index.html

dist/portal/index.html: $(FRONTEND_SOURCES) index.html
	cargo fetch --locked
	trunk build --release=true --dist dist/portal index.html

dist/signed-in/index.html: $(FRONTEND_SOURCES) signed-in.html
	cargo fetch --locked
	trunk build --release=true --dist dist/signed-in --public-url /signed-in/ signed-in.html

dist/console/index.html: $(FRONTEND_SOURCES) console.html
	cargo fetch --locked
	trunk build --release=true --dist dist/console --public-url /console/ console.html

## budget: the brotli size of what each bundle's first load fetches, against the ceilings
## in frontend/budget.toml (after `make frontend`)
budget:
	python3 scripts/bundle-budget.py

## size-report: the Wasm attributed by function (twiggy on a build that keeps names)
size-report: tools
	@command -v twiggy >/dev/null || cargo install twiggy --version 0.8.0 --locked
	@for bin in portal signed-in console; do \
		cargo build --locked --quiet --profile wasm-size --target wasm32-unknown-unknown \
			-p latchkey-frontend --bin $$bin; \
		echo "== $$bin: $$(stat -c %s target/wasm32-unknown-unknown/wasm-size/$$bin.wasm) B before wasm-bindgen and wasm-opt"; \
		twiggy top -n $${SIZE_TOP:-25} target/wasm32-unknown-unknown/wasm-size/$$bin.wasm; \
	done

## lint: no import circles between modules, formatting, clippy (server and browser
## builds), and docs/openapi.json is what `latchkey openapi` prints now
lint:
	python3 scripts/import-cycles.py --self-test
	python3 scripts/import-cycles.py
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p latchkey-frontend --target wasm32-unknown-unknown --locked -- -D warnings
	$(MAKE) debug-bin
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; \
		$(DEBUG_BIN) openapi >"$$tmp"; \
		diff -u docs/openapi.json "$$tmp" \
			|| { echo "docs/openapi.json is not what latchkey openapi prints: run make openapi"; exit 1; }

# The debug server binary, built as `cargo test` builds it (same features, so neither
# rebuilds the other's work).
DEBUG_BIN := target/debug/latchkey
debug-bin:
	cargo test --workspace --locked --no-run --quiet

## openapi: write docs/openapi.json, the OpenAPI description of the server functions,
## generated from the Rust types (`latchkey openapi`)
openapi: debug-bin
	$(DEBUG_BIN) openapi >docs/openapi.json.tmp
	mv docs/openapi.json.tmp docs/openapi.json

## fuzz: schemathesis against `latchkey serve --demo --ephemeral` for FUZZ_SECONDS (180
## by default; `make test` runs TEST_FUZZ_SECONDS): no 5xx, nothing outside
## docs/openapi.json, no panic in the server's log (scripts/fuzz.sh)
FUZZ_SECONDS ?= 180
TEST_FUZZ_SECONDS ?= 60
fuzz: $(SMTP_SINK) debug-bin
	FUZZ_BIN=$(DEBUG_BIN) scripts/fuzz.sh $(FUZZ_SECONDS)

cargo-test: $(SMTP_SINK)
	cargo test --workspace --locked

# Three `latchkey serve` processes on one PostgreSQL, RACE_RUNS times in a row: a race
# that passes once by luck fails here.
RACE_RUNS ?= 10
race:
	cargo test --workspace --locked --no-run
	@for i in $$(seq 1 $(RACE_RUNS)); do \
		echo "three-server race, run $$i of $(RACE_RUNS)"; \
		cargo test --workspace --locked --test api --quiet \
			three_servers::three_servers_on_one_postgres_keep_every_rule || exit 1; \
	done

e2e: $(SMTP_SINK)
	@# Same feature set as `cargo test`, so nothing is rebuilt after the cargo tests.
	cargo test --workspace --locked --no-run
	cd end2end && npx playwright test

## bench: throughput, timing and memory figures, SQLite beside PostgreSQL with 1 and 3
## servers, and the bundle sizes beside Lighthouse's figures, in one run (see bench/README.md)
bench: frontend test-tools $(SMTP_SINK)
	cargo run --release --locked -p latchkey-bench --bin latchkey-bench
	cargo run --release --locked -p latchkey-bench --bin mail
	cargo run --release --locked -p latchkey-bench --bin enumeration
	cargo run --release --locked -p latchkey-bench --bin memory
	cargo run --release --locked -p latchkey-bench --bin console_search
	cargo build --release --locked -p latchkey-server
	cargo run --release --locked -p latchkey-bench --bin backends
	@# The sizes are printed here whatever they are; `make test` is where they fail a build.
	python3 scripts/bundle-budget.py || true
	node bench/lighthouse.mjs target/release/latchkey

clean:
	cargo clean
	rm -rf dist node_modules end2end/node_modules
