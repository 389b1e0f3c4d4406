# slipstream: `make demo` runs the example, `make test` runs every test, `make bench` the benchmarks.
# Both install what they need: a Python venv (kept under ~/.cache, rebuilt when the pinned
# requirements change) and the project itself, built from this checkout.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CACHE ?= $(HOME)/.cache/slipstream
VENV ?= $(CACHE)/venv
export CARGO_TARGET_DIR ?= $(CACHE)/target
PY := $(VENV)/bin/python
REQS_HASH := $(shell cat requirements/*.txt | sha256sum | cut -c1-16)
VENV_STAMP := $(VENV)/.requirements-$(REQS_HASH)
# Airflow 2.11, only to check that generated DAG files parse there too.
AIRFLOW2_VENV ?= $(CACHE)/airflow2-venv
AIRFLOW2_STAMP := $(AIRFLOW2_VENV)/.constraints-$(shell sha256sum requirements/airflow2-constraints.txt | cut -c1-16)
# Tests find moto_server and the other tools of the venv first.
export PATH := $(VENV)/bin:$(PATH)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)


.PHONY: help venv airflow2 develop develop-release postgres browser faketime image demo test test-fast test-rust test-python test-clock lint records bench clean

help:
	@echo "make demo    round-trip every type, run the quickstart flow here, then in Airflow"
	@echo "make test    run every test (Rust, Python, S3, PostgreSQL, Airflow 3 and 2, the task image)"
	@echo "make test-fast  the Python tests that need no server and are not slow (markers: tests/conftest.py)"
	@echo "make records write the SDK's record classes again from the Rust record types"
	@echo "make bench   run the benchmarks (handoff, extract, airflow overhead, UI scale)"

# The stamps are named after the hash of what they install, so they need no prerequisites:
# a fresh clone (new file times, same contents) reuses the venvs as they are.
$(VENV_STAMP):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet -r requirements/airflow.txt -c requirements/airflow-constraints.txt
	rm -f $(VENV)/.requirements-*
	touch $@

venv: $(VENV_STAMP)

$(AIRFLOW2_STAMP):
	python3 -m venv $(AIRFLOW2_VENV)
	$(AIRFLOW2_VENV)/bin/pip install --quiet --upgrade pip
	$(AIRFLOW2_VENV)/bin/pip install --quiet "apache-airflow==2.11.2" -c requirements/airflow2-constraints.txt
	rm -f $(AIRFLOW2_VENV)/.constraints-*
	touch $@

airflow2: $(AIRFLOW2_STAMP)

# PostgreSQL for the warehouse tests and the extract benchmark; the tests start their own
# server in a temporary folder, so only the binaries are needed.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing PostgreSQL (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# Chromium for the browser tests of the web UI, driven by Playwright (never `playwright
# install`: the system browser is used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Chromium (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# libfaketime, to run the suites that order runs by time a year ahead and in another zone.
# A fast S3 server written in Rust, for throughput figures (moto is Python: fine for
# conformance, slow under load). Built once into the cache.
S3S_FS := $(CACHE)/tools/bin/s3s-fs
$(S3S_FS):
	cargo install s3s-fs@0.14.1 --features binary --locked --quiet --root $(CACHE)/tools

faketime:
	@command -v faketime >/dev/null 2>&1 || { \
		echo "installing faketime (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq faketime >/dev/null; }

develop: venv
	VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --quiet

# Release builds keep their own target dir so they never wait on the debug build's lock.
develop-release: venv
	CARGO_TARGET_DIR=$(CACHE)/target-release VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --quiet --release

demo: develop
	$(PY) examples/roundtrip.py
	$(PY) examples/quickstart.py
	$(PY) examples/in_airflow.py

# Tests that need a server are #[ignore]d (reported, never passed, under a plain `cargo test`);
# here they run, with the venv's moto_server on PATH.
test-rust: venv
	cargo test --workspace --quiet -- --include-ignored

# The task image (Dockerfile) built with podman; where podman cannot run, the reason is
# recorded and the image tests skip with it.
image:
	CACHE=$(CACHE) scripts/build_image.sh $(CACHE)/image-name

test-python: develop postgres browser airflow2 image
	SLIPSTREAM_REQUIRE_POSTGRES=1 SLIPSTREAM_REQUIRE_BROWSER=1 SLIPSTREAM_AIRFLOW2_PYTHON=$(AIRFLOW2_VENV)/bin/python \
	SLIPSTREAM_IMAGE="$$(cat $(CACHE)/image-name 2>/dev/null)" \
	SLIPSTREAM_IMAGE_SKIP="$$(cat $(CACHE)/image-name.skip 2>/dev/null)" \
	CONTAINERS_CONF=$(CACHE)/containers.conf \
	$(PY) -m pytest

# The tier that needs no server: no S3 (moto), Airflow, PostgreSQL, browser or task image,
# and none of the known-slow suites. Markers are set from what each test uses (tests/conftest.py).
FAST := not (s3 or airflow or airflow2 or postgres or browser or image or slow)
test-fast: develop
	$(PY) -m pytest -m "$(FAST)"

# The suites that write and order runs, versions and DAG files again with the clock a year
# ahead and the machine in UTC+14: no assertion may depend on the date, the hour or the zone.
CLOCK_SUITES := tests/ui/test_ui.py tests/cli/test_cli.py tests/runtime/test_flow_run.py tests/authoring/test_flow_versions.py tests/runtime/test_task.py
test-clock: develop browser faketime
	SLIPSTREAM_REQUIRE_BROWSER=1 TZ=Pacific/Kiritimati faketime -f '+365d' \
	$(PY) -m pytest -q -p no:cacheprovider $(CLOCK_SUITES) tests/airflow/test_airflow_dags.py::test_start_date_is_the_versions_publish_day

lint: venv
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check python tests bench examples scripts
	$(VENV)/bin/ruff format --check python tests bench examples scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m mypy.stubtest slipstream._native --ignore-missing-stub

# The SDK's record classes, generated from the Rust core's record types (run after changing
# one; tests/records/test_record_types.py fails while they differ).
records: develop
	$(PY) scripts/gen_record_types.py

test: test-rust test-python test-clock lint

bench: develop-release postgres $(S3S_FS)
	SLIPSTREAM_S3S_FS=$(S3S_FS) $(PY) bench/handoff.py
	$(PY) bench/streaming.py
	$(PY) bench/extract.py
	$(PY) bench/airflow_overhead.py
	$(PY) bench/ui_scale.py
	$(PY) bench/gc.py
	$(PY) bench/cache.py

clean:
	cargo clean
	rm -rf $(VENV)
