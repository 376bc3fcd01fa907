# Herald: the two commands of the README.
#   make run    install what is missing, build, enqueue the example messages, run the worker
#   make test   install what is missing, build, run every test
# Both need a Swift 6.2+ toolchain on PATH (swift.org's Debian build); everything else they install.

SHELL := /bin/bash
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev pkg-config python3 python3-aiosmtpd python3-pyftpdlib openssl kannel kannel-extras curl python3-prometheus-client systemd chromium python3-websocket python3-jsonschema prometheus postgresql dovecot-imapd dovecot-pop3d python3-cryptography postfix libidn12 libgnutls-dane0 libnsl2 libdb5.3 libpcre2-8-0 libfaketime
# Development-only signing secret so `make run` works out of the box; set your own in the environment.
export ADVISOR_HOOK_SECRET ?= whsec_ZGV2ZWxvcG1lbnQtb25seS1zZWNyZXQtbm90LWZvci1wcm9kdWN0aW9u
export HERALD_UNSUBSCRIBE_SECRET ?= development-only-unsubscribe-key-not-for-production
# The API on TCP and the console: development only (loopback; `config check` warns elsewhere).
export HERALD_API_TOKEN ?= development-only-api-token-not-for-production
export HERALD_HTTP_LISTEN ?= 127.0.0.1:8470

.PHONY: run test deps build release bench clean console-line

deps:
	@command -v swift >/dev/null || { echo "make: a Swift 6.2+ toolchain must be on PATH (https://www.swift.org/install/linux/)"; exit 1; }
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make: installing $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Debian's Exim for the real-bounce tests, beside Postfix: the two packages conflict, so Exim is
# unpacked under .build-exim/ rather than installed; its binary wants its own system user.
EXIM_PACKAGES := exim4-daemon-light exim4-base exim4-config
.build-exim/root/usr/sbin/exim4:
	@echo "make: unpacking $(EXIM_PACKAGES) into .build-exim/"
	@rm -rf .build-exim && mkdir -p .build-exim/root
	@cd .build-exim && apt-get download $(EXIM_PACKAGES) >/dev/null && for deb in *.deb; do dpkg -x $$deb root; done
	@id Debian-exim >/dev/null 2>&1 || $$([ "$$(id -u)" = 0 ] || echo sudo) useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim

build: deps
	swift build

release: deps
	swift build -c release

run: release
	mkdir -p var
	.build/release/herald config check
	.build/release/herald templates check
	.build/release/herald enqueue Config/example-messages.ndjson || true
	@$(MAKE) -s console-line
	.build/release/herald run

# The one line a newcomer needs to open the console of `make run`.
console-line:
	@echo "herald: the console is at http://$(HERALD_HTTP_LISTEN)/console — sign in with the development token $(HERALD_API_TOKEN)"

test: deps .build-exim/root/usr/sbin/exim4
	swift build --build-tests
	# One run, suites in parallel: timing verdicts are taken on Herald's own record (attempt
	# times it wrote), so they hold on a busy machine.
	swift test --skip-build

bench: release
	Benchmarks/template-render.sh
	Benchmarks/webhook-throughput.sh
	Benchmarks/smtp-throughput.sh
	Benchmarks/ingest-throughput.sh
	Benchmarks/policy-overhead.sh
	Benchmarks/allocations-per-message.sh
	Benchmarks/drain-throughput.sh
	Benchmarks/sequence-throughput.sh

clean:
	rm -rf .build var
