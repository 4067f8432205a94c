# Relbook — the two commands of the README are `make run` and `make test`.
# Both create .venv and install the project on first use (and after pyproject changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# caldav pulls urllib3-future; built from source with this set, it does not replace
# urllib3 (which exchangelib's requests needs) nor install a self-copying .pth file.
export URLLIB3_NO_OVERRIDE := 1

.PHONY: run test check bench bench-smoke package clean revision fixture-books

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-binary urllib3-future -e '.[dev]'
	@touch $(STAMP)

## run: open the app (offers a demo book on a first run)
run: $(STAMP)
	$(BIN)/relbook $(ARGS)

## test: layer contracts, then the whole suite (servers are started by fixtures)
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## check: lint, format, types, layer contracts
check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: build (once) the benchmark book and measure against raw SQLite
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

## package: one-folder desktop bundle with PyInstaller
package: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-binary urllib3-future -e '.[package]'
	$(BIN)/pyinstaller --noconfirm --clean packaging/relbook.spec

## revision: a new schema migration, e.g. make revision m="add x to person"
revision: $(STAMP)
	$(BIN)/python -m relbook.storage.revision "$(m)"

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
