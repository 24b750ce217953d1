# ippproxy: `make run` starts the server on the embedded default; `make test` runs the suite.
# Both do all the set-up on a fresh Debian 12 machine (apt-get for system tools, a venv for Python).

# Debian's own interpreter wherever it is, also when another python3 (pyenv's) comes first
# in PATH: the one a fresh Debian 12 machine runs, so tests and benchmarks run what users
# run (README, Benchmarks: the server spends less CPU per job on it than on pyenv's build).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the server and the test suite use (real printers, clients, gs, PostgreSQL).
# build-essential and python3-dev compile ippproxy/filters/_rasterwalk.c at `pip install`.
DEB_PACKAGES := cups-ipp-utils cups cups-client ghostscript qpdf poppler-utils dbus \
                postgresql build-essential python3-dev curl systemd util-linux \
                chromium chromium-driver avahi-daemon avahi-utils iproute2 slapd ldap-utils \
                fonts-dejavu-core python3-venv
# pytest workers: three on the 2 cores the suite is sized for. Its tests spend about a third
# of their time waiting for the processes they start (servers, printers, cupsd, Chromium),
# so a third worker fills the cores (README, Tests). --dist loadscope keeps a module's tests
# in one worker, in file order: some browser tests build on the module's earlier steps.
PYTEST_WORKERS ?= 3
PYTEST_ARGS ?=
# `make soak`: how long the long loops run (tests/support/soak.py): x hypothesis examples,
# x10 kills in the crash loop, x100 Print-Jobs in the load test.
SOAK_SCALE ?= 10

.PHONY: run test soak deps venv lint typecheck bench clean

# `ippproxy serve` prints its ready line (where it listens, a print command that works from
# any directory) once it accepts connections; the command tool is $(BIN)/ippproxy.
run: $(STAMP)
	$(BIN)/ippproxy serve $(if $(CONFIG),--config $(CONFIG),)

test: deps $(STAMP) lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope -p no:cacheprovider -m "not soak" $(PYTEST_ARGS)

# The long loops `make test` and CI leave out: crash loops past 10 kills, load (marker
# `soak`), and every hypothesis property test with SOAK_SCALE times its examples. Run it
# before resolving an issue that touches durability, forwarding, the codec or charging.
soak: deps $(STAMP)
	SOAK_SCALE=$(SOAK_SCALE) HYPOTHESIS_PROFILE=soak $(BIN)/python -m pytest -q \
	  -n $(PYTEST_WORKERS) -p no:cacheprovider -m "soak or hypothesis" --durations=10 $(PYTEST_ARGS)

# Install missing Debian packages (root, or sudo when available). Nothing happens when all are present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py ippproxy/filters/_rasterwalk.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "no venv: Debian's python3-venv is missing (\`make deps\` installs it)"; exit 1; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,ldap]'
	touch $(STAMP)

# ruff, and the import contracts of .importlinter (layers, forbidden imports, no circles).
lint: $(STAMP)
	$(BIN)/ruff check ippproxy testprinters tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var build *.egg-info
