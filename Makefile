# rccdash: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench docs screenshots install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "rccdash needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)  ## create .venv and install rccdash with its test tools

demo: $(STAMP)  ## generate + load the synthetic county, then serve the dashboard
	$(BIN)/rccdash demo

test: $(STAMP)  ## the whole suite, browser tests included
	GX_ANALYTICS_ENABLED=false $(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## speed and memory benchmarks (writes bench/results/)
	$(BIN)/python bench/run.py

docs: $(STAMP)  ## regenerate docs/schema.md from the schema
	$(BIN)/rccdash schema --doc docs/schema.md

screenshots: $(STAMP)  ## the user guide's pictures: every page of the demo county in Chromium
	@test -f data/warehouse.duckdb || $(BIN)/rccdash demo --no-serve
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
