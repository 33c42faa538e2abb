# The two commands: `make test` and `make bench`.  Both set themselves up on a
# fresh machine with only Python 3 and a C compiler: a virtualenv in $(VENV),
# the package with its test extras, the C twins compiled in place.
#
#   make test                      every test, on both twins
#   make bench                     the benchmarks, ours and the peers side by side
#   make test PYTHON=python3.12 VENV=.venv-3.12   the same on another CPython
#   make test JOBS=0               the same in one process (default: 2 pytest-xdist workers)
#   HYPOTHESIS_PROFILE=deep make test   property tests with more examples (tests/conftest.py)
#   make fuzz                      atheris: the parser twins must agree (FUZZ_RUNS=..., not part of test)
#   make debug                     the C twins unoptimised, with Cython's checks on
#   make lint                      ruff, cython-lint over src/, mypy --strict, stubtest of the C twins
#   make dist                      sdist and wheel into dist/ (python -m build)
#   make check-dist                the distributions: the sdist builds and passes its own tests in a
#                                  fresh venv, the wheel is the stripped C twin, auditwheel accepts it,
#                                  the setuptools floor builds (tests/package/test_dist.py, marked slow)
#   make docs                      the documentation site into site/ (mkdocs --strict: a warning fails)
#   make release-check             the release workflow's dry run: python -m build, then twine check

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
JOBS ?= 2
FUZZ_RUNS ?= 200000
DIST ?= dist
STAMP_VENV := $(VENV)/.stamp-venv
STAMP_BUILD := $(VENV)/.stamp-build
STAMP_DOCS := $(VENV)/.stamp-docs
STAMP_RELEASE := $(VENV)/.stamp-release
SOURCES := $(wildcard src/*.pyx src/*.pxd src/*.pxi src/client/*.pyx src/client/*.pxi) setup.py

.PHONY: all test bench build typecheck lint dist check-dist clean debug fuzz docs release-check

all: test

$(STAMP_VENV): pyproject.toml
	@echo "==> creating virtualenv $(VENV) with $(PYTHON)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing build tools and wirespeed's test extras"
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "setuptools>=77.0.1" "Cython>=3.1"
	@# the C twins are compiled by the build step below, once
	WIRESPEED_NO_EXTENSIONS=1 $(PY) -m pip install -q --no-build-isolation -e ".[test]"
	@touch $@

$(STAMP_BUILD): $(STAMP_VENV) $(SOURCES)
	@echo "==> compiling the C twins in place"
	$(PY) setup.py -q build_ext --inplace
	@touch $@

build: $(STAMP_BUILD)
	@$(PY) -c "import wirespeed.wire as w; print('==> live implementation:', w.IMPLEMENTATION)"

# pytest-xdist (a test extra) spreads the tests over JOBS processes; JOBS=0 runs them in one.
test: build
	@echo "==> running the tests on both twins (ids [c] and [python])"
	$(PY) -m pytest $$($(PY) -c "import xdist" 2>/dev/null && echo "-n $(JOBS) --dist worksteal") $(PYTEST_ARGS)

typecheck: build
	$(PY) -m mypy

# Every linter runs, then the target fails if any of them did.
# cython-lint runs pycodestyle from PATH, hence the venv's bin first.
lint: build
	@status=0; \
	echo "==> ruff check"; $(PY) -m ruff check . || status=1; \
	echo "==> cython-lint src/"; PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/cython-lint src/ || status=1; \
	echo "==> mypy --strict (the package and its .pyi stubs)"; $(PY) -m mypy || status=1; \
	echo "==> stubtest: the stubs match the compiled C twins"; \
	$(PY) -m mypy.stubtest wirespeed.wire._writer_c wirespeed.wire._parser_c wirespeed.wire._receive_c wirespeed.client._connection_c wirespeed.client._context_c \
		--allowlist tests/stubtest-allowlist.txt --ignore-unused-allowlist || status=1; \
	exit $$status

dist: $(STAMP_VENV)
	@echo "==> building the sdist, then the wheel from it, into $(DIST)/"
	rm -rf $(DIST)
	$(PY) -m build --outdir $(DIST) .

check-dist: dist
	@echo "==> checking the distributions in $(DIST)/ (fresh virtualenvs; needs PyPI)"
	WIRESPEED_DIST=$(abspath $(DIST)) $(PY) -m pytest -p no:cacheprovider -m slow --durations=0 \
		$$($(PY) -c "import xdist" 2>/dev/null && echo "-n $(JOBS) --dist worksteal") tests/package/test_dist.py

$(STAMP_DOCS): $(STAMP_VENV)
	@echo "==> installing the docs extra (mkdocs, mkdocstrings)"
	WIRESPEED_NO_EXTENSIONS=1 $(PY) -m pip install -q --no-build-isolation -e ".[docs]"
	@touch $@

# --strict turns every warning (a broken link, a page left out of the nav, an
# API reference that does not resolve) into a failure.
docs: build $(STAMP_DOCS)
	@echo "==> building the documentation site into site/"
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

$(STAMP_RELEASE): $(STAMP_VENV)
	WIRESPEED_NO_EXTENSIONS=1 $(PY) -m pip install -q --no-build-isolation -e ".[release]"
	@touch $@

# The dry run of .github/workflows/release.yml: the sdist, a wheel built from
# it, and twine's checks of both (metadata and README rendering), as PyPI would.
# (`make check-dist release-check` builds the distributions once for both.)
release-check: dist $(STAMP_RELEASE)
	@echo "==> release dry run: twine check --strict on what python -m build made"
	$(PY) -m twine check --strict $(DIST)/*
	@echo "==> the workflows against GitHub's schema"
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

bench: build
	@echo "==> running the benchmarks: wirespeed's twins and the peers in one run"
	$(PY) -m pytest --benchmark

debug: $(STAMP_VENV)
	@echo "==> compiling the C twins with -O0 -g3 and Cython's checks on"
	WIRESPEED_DEBUG=1 $(PY) setup.py -q build_ext --inplace --force
	@rm -f $(STAMP_BUILD)

fuzz: build
	@echo "==> fuzzing both parser twins against each other, then the decoder ($(FUZZ_RUNS) runs each)"
	$(PY) -m pip install -q atheris
	$(PY) fuzz/fuzz_parser.py -max_len=4096 -dict=fuzz/http.dict -runs=$(FUZZ_RUNS)
	$(PY) fuzz/fuzz_decoding.py -runs=$(FUZZ_RUNS)

clean:
	rm -rf build site $(DIST) $(VENV) python/wirespeed/wire/*.so python/wirespeed/client/*.so src/*.c src/client/*.c .pytest_cache .benchmarks
